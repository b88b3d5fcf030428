"""A KMS key ring and its CMEK keys: rotated, protected from destroy, each granted only to named members."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from constructs import Construct

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True)
class KeyRingProps:
    name: str
    #: CMEK keys must live in the location of the data they protect (the region here).
    location: str
    #: Key name -> the IAM members (e.g. a service agent) allowed to encrypt and decrypt with it.
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: 90 days: CIS GCP 1.10 and checkov CKV_GCP_43.
    rotation_days: int = 90


class KeyRing(Construct):
    def __init__(self, scope: Construct, id_: str, props: KeyRingProps):
        super().__init__(scope, id_)
        self.key_ring = KmsKeyRing(self, "ring", name=props.name, location=props.location)
        self.id = self.key_ring.id
        self.keys: dict[str, KmsCryptoKey] = {}
        self.grants: dict[str, list[KmsCryptoKeyIamMember]] = {}
        for key_name, members in props.keys.items():
            key = KmsCryptoKey(
                self,
                f"key-{key_name}",
                name=key_name,
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{props.rotation_days * 86400}s",
                # Destroying a key makes everything it encrypted unreadable, for good.
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            )
            self.keys[key_name] = key
            self.grants[key_name] = [
                KmsCryptoKeyIamMember(
                    self, f"grant-{key_name}-{index}", crypto_key_id=key.id, role=ENCRYPTER_DECRYPTER, member=member
                )
                for index, member in enumerate(members)
            ]

    def key_id(self, name: str) -> str:
        return self.keys[name].id
