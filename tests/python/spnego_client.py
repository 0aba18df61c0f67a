"""SPNEGO-wrapped NTLM (HTTP `Negotiate`) against a dualrec mock site.

What .NET on Linux and other GSS-API stacks send: pyspnego's
`protocol="negotiate"` context (a GSS-API NegTokenInit first, 0x60, then
NegTokenResp messages, 0xa1, with NTLM inside and a mechListMIC), driven
by hand over one `requests.Session` so that the server's final token (in the
200's WWW-Authenticate) goes back into the context: pyspnego verifies the
server's mechListMIC there and only then calls the context complete.

Logs in on the identity provider (windows_credentials grant) and on the
windows SOAP Login; a wrong password; and bare NTLMSSP under the
`Negotiate` scheme, as the engine sends it. Prints one JSON object.

usage: spnego_client.py BASE_URL USER PASSWORD
"""
import base64
import json
import sys
from urllib.parse import urlparse

import requests
import spnego
import urllib3

urllib3.disable_warnings()

SC_NS = "http://videoos.net/2/XProtectCSServerCommand"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
WINDOWS_GRANT = "grant_type=windows_credentials&client_id=GrantValidatorClient"


def server_token(response):
    """The base64 token after `Negotiate` in WWW-Authenticate, if any."""
    for part in response.headers.get("WWW-Authenticate", "").split(","):
        scheme, _, token = part.strip().partition(" ")
        if scheme.lower() == "negotiate" and token.strip():
            return base64.b64decode(token.strip())
    return None


def negotiate_post(url, user, password, headers, data, protocol="negotiate"):
    """POSTs `data` through a whole Negotiate handshake on one connection."""
    host = urlparse(url).hostname
    ctx = spnego.client(user, password, hostname=host, service="HTTP", protocol=protocol)
    seen = {"client_tags": [], "server_tags": []}
    out_token = ctx.step()
    with requests.Session() as s:
        while True:
            seen["client_tags"].append(out_token[0])
            h = dict(headers)
            h["Authorization"] = "Negotiate " + base64.b64encode(out_token).decode()
            r = s.post(url, headers=h, data=data, verify=False)
            in_token = server_token(r)
            if r.status_code != 401 or in_token is None:
                break
            seen["server_tags"].append(in_token[0])
            out_token = ctx.step(in_token)
    seen["status"] = r.status_code
    final = server_token(r) if r.status_code == 200 else None
    seen["final_token"] = final is not None
    if final is not None:
        seen["server_tags"].append(final[0])
        # Raises if the server's mechListMIC does not verify.
        ctx.step(final)
    seen["complete"] = ctx.complete
    return r, seen


def main():
    base, user, password = sys.argv[1:4]
    out = {}

    r, seen = negotiate_post(f"{base}/IDP/connect/token", user, password, FORM, WINDOWS_GRANT)
    out["idp"] = seen
    out["idp"]["token_type"] = r.json().get("token_type") if r.status_code == 200 else None

    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP12}"><soap:Body>'
        f'<Login xmlns="{SC_NS}"><instanceId>00000000-0000-0000-0000-000000000000</instanceId>'
        "<currentToken></currentToken></Login></soap:Body></soap:Envelope>"
    )
    soap_headers = {
        "Content-Type": f'application/soap+xml; charset=utf-8; action="{SC_NS}/Login"'
    }
    r, seen = negotiate_post(
        f"{base}/ServerAPI/ServerCommandService.asmx", user, password, soap_headers, envelope
    )
    out["soap"] = seen
    out["soap"]["has_token"] = "<Token>" in r.text

    _, seen = negotiate_post(f"{base}/IDP/connect/token", user, password + "x", FORM, WINDOWS_GRANT)
    out["wrong_password"] = seen

    # Bare NTLMSSP under the Negotiate scheme (no SPNEGO framing).
    r, seen = negotiate_post(
        f"{base}/IDP/connect/token", user, password, FORM, WINDOWS_GRANT, protocol="ntlm"
    )
    out["bare_ntlm"] = seen

    print(json.dumps(out))


if __name__ == "__main__":
    main()
