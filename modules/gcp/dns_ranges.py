"""Google's fixed DNS address ranges the other clouds must route and admit (no provider import: the AWS and
Azure stacks use them too)."""

#: Cloud DNS sends forwarded queries (private routing) from this range, and the answers must route back to
#: it over the VPN: the Cloud Router advertises it and the peers' resolvers admit it (GCP docs, "DNS
#: forwarding: firewall and routes for 35.199.192.0/19").
DNS_FORWARDING_SOURCE = "35.199.192.0/19"
