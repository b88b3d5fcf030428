"""The Google APIs a project must have on before anything else in it can be created."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.project_service import ProjectService
from constructs import Construct


@dataclass(frozen=True)
class ProjectServicesProps:
    project: str
    services: tuple[str, ...]


class ProjectServices(Construct):
    def __init__(self, scope: Construct, id_: str, props: ProjectServicesProps):
        super().__init__(scope, id_)
        self.services = [
            ProjectService(
                self,
                service.split(".")[0],
                project=props.project,
                service=service,
                # Turning an API off on destroy would break anything else in the project that uses it.
                disable_on_destroy=False,
                disable_dependent_services=False,
            )
            for service in props.services
        ]
