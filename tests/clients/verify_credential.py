"""A tool server's offline check of a toolreg credential: PyJWT with the published JWKS.

    verify_credential.py JWKS_URL TOKEN AUDIENCE ISSUER

Prints one JSON line: {"valid": true, "claims": {...}} or {"valid": false, "error": "..."}.
"""

import json
import sys

import jwt


def main() -> None:
    jwks_url, token, audience, issuer = sys.argv[1:5]
    try:
        key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["ES256"],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "aud", "jti"]},
        )
        print(json.dumps({"valid": True, "claims": claims}))
    except jwt.PyJWTError as e:
        print(json.dumps({"valid": False, "error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
