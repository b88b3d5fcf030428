"""The platform's kv-v2 secrets mount, and the API paths under it.

kv-v2 splits every secret across ``<mount>/data/<path>`` (the values) and
``<mount>/metadata/<path>`` (versions, listing). Policies must name those API
paths, not the logical ``<mount>/<path>`` a CLI user types, so the mount
computes them once here.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.mount import Mount
from constructs import Construct


@dataclass(frozen=True)
class KvMountProps:
    path: str
    description: str


class KvMount(Construct):
    def __init__(self, scope: Construct, id_: str, props: KvMountProps):
        super().__init__(scope, id_)
        self.mount = Mount(
            self, "mount", path=props.path, type="kv", options={"version": "2"}, description=props.description
        )
        #: The configured path (a plain string, so policies can be rendered to text at synth).
        self.path = props.path

    def data_path(self, subtree: str) -> str:
        """API path of every secret's values under ``subtree``."""
        return f"{self.path}/data/{subtree.strip('/')}/*"

    def metadata_path(self, subtree: str) -> str:
        """API path of every secret's metadata under ``subtree`` (needed to list it)."""
        return f"{self.path}/metadata/{subtree.strip('/')}/*"
