"""A kv-v2 secrets mount. (Foundation skeleton: the Vault issue adds engines, auth and policies.)"""

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
        self.path = self.mount.path
