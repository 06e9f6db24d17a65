"""The committed OpenAPI document is the one the code produces."""

from __future__ import annotations

import json

from openapi_spec_validator import OpenAPIV31SpecValidator

from api.cli import OPENAPI_PATH
from api.openapi_export import openapi_document


def test_committed_openapi_matches_the_app() -> None:
    committed = OPENAPI_PATH.read_text()
    assert committed.strip() == openapi_document().strip(), (
        "run `make openapi` and commit openapi/openapi.json"
    )


def test_openapi_declares_bearer_and_client_credentials_security() -> None:
    document = json.loads(openapi_document())
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerJWT"]["scheme"] == "bearer"
    assert "client_credentials" in {
        k.lower().replace("clientcredentials", "client_credentials")
        for k in schemes["OAuth2ClientCredentials"]["flows"]
    }
    audit = document["paths"]["/v1/audit"]["get"]
    assert {"OAuth2ClientCredentials": ["audit:read"]} in audit["security"]
    assert "security" not in document["paths"]["/health"]["get"]


def test_the_document_is_valid_openapi_3_1() -> None:
    document = json.loads(openapi_document())
    assert document["openapi"].startswith("3.1")
    errors = [
        f"{list(e.absolute_path)}: {e.message[:300]}" for e in OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert not errors, "\n".join(errors)
