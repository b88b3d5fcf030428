"""The one base every stack shares: its name, its state backend and its tags."""

from __future__ import annotations

from cdktf import Aspects, LocalBackend, S3Backend, TerraformStack
from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.tagging import TagAspect

#: Local state lives in the repo's ignored .state/ folder. Terraform resolves the
#: path from the stack's own directory, cdktf.out/stacks/<stack>/.
LOCAL_STATE_DIR = "../../../.state"


def platform_tags(env: Environment, component: str) -> dict[str, str]:
    """Tags every resource carries unless a narrower scope (a data domain) overrides them."""
    return {
        **env.tags,
        "environment": env.name,
        "owner": env.owner,
        "domain": "platform",
        "classification": "internal",
        "component": component,
        "managed-by": "cdktf",
    }


class PlatformStack(TerraformStack):
    """A stack named ``<env>-<component>``, with its backend and the tag aspect configured."""

    def __init__(self, scope: Construct, env: Environment, component: str):
        self.stack_name = naming.stack_name(env.name, component)
        super().__init__(scope, self.stack_name)
        self.env = env
        self._configure_backend()
        Aspects.of(self).add(TagAspect(platform_tags(env, component)))

    def _configure_backend(self) -> None:
        state = self.env.state
        if state.backend == "local":
            LocalBackend(self, path=f"{LOCAL_STATE_DIR}/{self.stack_name}.tfstate")
            return
        S3Backend(
            self,
            bucket=state.bucket,
            key=f"{self.stack_name}/terraform.tfstate",
            region=state.region,
            encrypt=True,
            kms_key_id=state.kms_key_id,
        )
        # S3-native locking (Terraform >= 1.10). cdktf 0.21's S3Backend predates the
        # field, and DynamoDB locking is deprecated, so it goes in as an override.
        self.add_override("terraform.backend.s3.use_lockfile", True)
