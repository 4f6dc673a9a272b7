"""An agent's OAuth 2.0 client-credentials flow with a standard library (authlib), then a catalog
read with the token: what tests/api/oauth.rs runs against toolreg.

    oauth_client.py BASE_URL CLIENT_ID CLIENT_SECRET [SCOPE]

Discovers the token endpoint from /.well-known/oauth-authorization-server (RFC 8414), fetches a
token with client_secret_basic, lists the catalog, and prints one JSON line:
{"token_type", "expires_in", "scope", "tools_status", "tool_names"}.
"""

import json
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session


def main() -> None:
    base, client_id, client_secret = sys.argv[1:4]
    scope = sys.argv[4] if len(sys.argv) > 4 else None
    meta = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=10).json()
    assert "client_credentials" in meta["grant_types_supported"], meta
    session = OAuth2Session(
        client_id,
        client_secret,
        token_endpoint_auth_method="client_secret_basic",
        scope=scope,
    )
    token = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    tools = session.get(f"{base}/api/v1/tools?limit=100", timeout=10)
    print(
        json.dumps(
            {
                "token_type": token["token_type"],
                "expires_in": token["expires_in"],
                "scope": token.get("scope"),
                "tools_status": tools.status_code,
                "tool_names": [t["name"] for t in tools.json().get("items", [])],
            }
        )
    )


if __name__ == "__main__":
    main()
