"""The <env>-vault stack."""

from __future__ import annotations

from constructs import Construct

from environments.schema import Environment
from modules.vault.kv_mount import KvMount, KvMountProps
from stacks import providers
from stacks.base import PlatformStack


class VaultStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "vault")
        providers.vault(self)
        self.kv = KvMount(self, "kv", KvMountProps(path=env.vault.kv_mount, description=f"{env.name} platform secrets"))
