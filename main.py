"""Load and validate every environment, build one App, synthesize. See README.md."""

import argparse
import os
import sys

from environments.schema import ENVIRONMENTS_DIR, ConfigError, load_environments


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Synthesize the Cloud Conductor stacks.")
    parser.add_argument("--env", action="append", help="only this environment (repeatable); default: all")
    parser.add_argument("--outdir", default="cdktf.out")
    parser.add_argument("--environments", default=str(ENVIRONMENTS_DIR), help="folder of <env>.yaml files")
    args = parser.parse_args(argv)
    try:
        environments = load_environments(args.environments, only=args.env)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    from stacks.app import synth  # after validation: a bad file costs no provider import

    synth(environments, args.outdir)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the jsii runtime's shutdown adds ~10 s and there is nothing left to clean up.
    os._exit(code)
