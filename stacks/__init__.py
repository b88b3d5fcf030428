"""Composition only: one Terraform state per <env>-<component>. Providers and backends live here."""

import modules  # noqa: F401  (installs lazy provider loading before any provider import)
