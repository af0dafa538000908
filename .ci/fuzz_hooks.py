"""schemathesis hooks for .ci/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

`documented_roles`: a role the document does not name for an operation gets no 2xx from it.
The service writes each operation's roles into its bearer requirement (`openapi::name_roles`;
an empty list means any signed-in user), and `.ci/fuzz.py` names the role of the token it
sends in TONGXIN_FUZZ_ROLE.

`own_records_only`: a representative sees only its own cadre record and history; any other
cadre's answers 404 (README's role table). TONGXIN_FUZZ_OWN_CADRE names the representative's
own cadre id.
"""

import os

import schemathesis

ROLE = os.environ.get("TONGXIN_FUZZ_ROLE")
OWN_CADRE = os.environ.get("TONGXIN_FUZZ_OWN_CADRE")


@schemathesis.check
def documented_roles(ctx, response, case):
    """A 2xx only for the roles the operation's bearer requirement names."""
    if not ROLE or not 200 <= response.status_code < 300:
        return None
    requirements = case.operation.definition.raw.get("security")
    if not requirements:
        return None  # a public route
    allowed = [requirement.get("bearer") for requirement in requirements]
    if any(roles == [] or ROLE in roles for roles in allowed if roles is not None):
        return None
    raise AssertionError(
        f"{case.operation.label} answered {response.status_code} to {ROLE}; "
        f"the document allows only {', '.join(sorted(set(sum(allowed, []))))}"
    )


@schemathesis.check
def own_records_only(ctx, response, case):
    """A representative gets no 2xx for another cadre's record."""
    if ROLE != "representative" or not 200 <= response.status_code < 300:
        return None
    if not case.operation.path.startswith("/api/v1/cadres/{id}"):
        return None
    cadre = str((case.path_parameters or {}).get("id"))
    if cadre != OWN_CADRE:
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code} to a representative "
            f"for cadre {cadre}, not its own ({OWN_CADRE})"
        )
    return None
