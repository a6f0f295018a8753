"""GitHub in the sandbox: a small seeded organisation, and a fine-grained token of one of its owners
with the read permissions the credential form asks for."""

from __future__ import annotations

from datetime import datetime

from sandbox.standins.github import GitHubStandIn
from sandbox.standins.github_seed import copilot_truth, generate_org
from sandbox.standins.sandboxed import Sandboxed

ORG = "acme-corp"
READ = {"members": "read", "organization_copilot_seat_management": "read"}


def seed(standin: GitHubStandIn, now: datetime) -> None:
    standin.add_org(generate_org(21, login=ORG, now=now, n_members=40, n_seats=24, owners=2))


def credentials(standin: GitHubStandIn) -> dict[str, str]:
    owner = next(m.login for m in standin.orgs[ORG].members if m.role == "admin")
    return {"org": ORG, "token": standin.add_fine_grained_token(owner, ORG, READ)}


def paid_seats(standin: GitHubStandIn, start: datetime) -> int:
    """Copilot seats the digest counts as paid: the billed ones not already leaving (pending cancellation)."""
    truth = copilot_truth(standin.orgs[ORG], start, start)
    return truth.seats - len(truth.pending)


SANDBOX = Sandboxed(
    key="github",
    make=lambda clock: GitHubStandIn(clock=clock),
    seed=seed,
    settings=lambda standin: {"GITHUB_API_URL": standin.url},
    credentials=credentials,
    paid_seats=paid_seats,
    labels={"org": "GitHub organisation", "token": "GitHub token (fine-grained, read)"},
)
