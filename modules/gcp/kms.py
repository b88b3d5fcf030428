"""A KMS key ring and its CMEK keys: rotated, each granted only to named members.

Protected (the default): keys carry ``prevent_destroy`` and the ring has its plain name.
Unprotected (a disposable dev): GCP never deletes a key ring or key, so a destroyed ring's
name stays taken and a recreate fails with 409 ALREADY_EXISTS (Cloud KMS docs, "Object
hierarchy": key rings and keys cannot be deleted). The ring name then carries its creation
time, kept in a ``terraform_data`` (Terraform built-in, no provider), so every
destroy/recreate gets a fresh ring, and destroyed key versions go after one day, not 30.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import DataResource, Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from constructs import Construct

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
#: The shortest DESTROY_SCHEDULED period Cloud KMS accepts (kms_crypto_key.destroy_scheduled_duration: 24h min).
DISPOSABLE_DESTROY_DELAY = "86400s"


@dataclass(frozen=True)
class KeyRingProps:
    name: str
    #: CMEK keys must live in the location of the data they protect (the region here).
    location: str
    #: Key name -> the IAM members (e.g. a service agent) allowed to encrypt and decrypt with it.
    keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: 90 days: CIS GCP 1.10 and checkov CKV_GCP_43.
    rotation_days: int = 90
    #: False only for disposable environments (see the module docstring).
    protect: bool = True


class KeyRing(Construct):
    def __init__(self, scope: Construct, id_: str, props: KeyRingProps):
        super().__init__(scope, id_)
        name = props.name if props.protect else self._suffixed(props.name)
        self.key_ring = KmsKeyRing(self, "ring", name=name, location=props.location)
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
                lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if props.protect else None,
                destroy_scheduled_duration=None if props.protect else DISPOSABLE_DESTROY_DELAY,
            )
            self.keys[key_name] = key
            self.grants[key_name] = [
                KmsCryptoKeyIamMember(
                    self, f"grant-{key_name}-{index}", crypto_key_id=key.id, role=ENCRYPTER_DECRYPTER, member=member
                )
                for index, member in enumerate(members)
            ]

    def _suffixed(self, name: str) -> str:
        # timestamp() is read once, at create; ignore_changes keeps it until the ring's stack is destroyed.
        created = DataResource(
            self, "ring-generation",
            input={"created": Fn.formatdate("YYYYMMDDhhmmss", Fn.timestamp())},
            lifecycle=TerraformResourceLifecycle(ignore_changes=["input"]),
        )
        return f"{name}-{Fn.lookup(created.output, 'created')}"

    def key_id(self, name: str) -> str:
        return self.keys[name].id
