"""A Vault audit device: every request and response is logged (secrets HMAC-ed, never raw)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.audit import Audit
from constructs import Construct


@dataclass(frozen=True)
class AuditDeviceProps:
    #: Where the file device writes; "stdout" suits Vault in a container whose logs are shipped.
    file_path: str = "stdout"
    path: str = "file"
    description: str = "Every request and response, secrets HMAC-ed"


class AuditDevice(Construct):
    def __init__(self, scope: Construct, id_: str, props: AuditDeviceProps = AuditDeviceProps()):
        super().__init__(scope, id_)
        # log_raw stays at its default (false): values of secrets are HMAC-ed in the log.
        self.device = Audit(
            self, "device", type="file", path=props.path, description=props.description,
            options={"file_path": props.file_path, "log_raw": "false", "hmac_accessor": "true"},
        )
