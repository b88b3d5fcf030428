"""A KMS key ring for the environment's CMEK keys. (Foundation skeleton.)"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
from constructs import Construct


@dataclass(frozen=True)
class KeyRingProps:
    name: str
    location: str


class KeyRing(Construct):
    def __init__(self, scope: Construct, id_: str, props: KeyRingProps):
        super().__init__(scope, id_)
        self.key_ring = KmsKeyRing(self, "ring", name=props.name, location=props.location)
        self.id = self.key_ring.id
