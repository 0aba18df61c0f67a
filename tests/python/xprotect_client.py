"""A third-party XProtect client against a dualrec mock site.

Uses `requests` with `requests-ntlm` (NTLM from `pyspnego`) the way
Milestone's public Python samples log in: the identity provider's
windows_credentials grant with NTLM (and the password grant through the API
gateway path), then the OAuth SOAP Login with the bearer token, then manual
recording on the recorder with the SOAP token. Also the windows SOAP Login
with NTLM, and a wrong password. Prints one JSON object with what it saw.

usage: xprotect_client.py BASE_URL USER PASSWORD DEVICE_GUID
"""
import json
import sys
import xml.etree.ElementTree as ET

import requests
import urllib3
from requests_ntlm import HttpNtlmAuth

urllib3.disable_warnings()

SC_NS = "http://videoos.net/2/XProtectCSServerCommand"
RC_NS = "http://videoos.net/2/XProtectCSRecorderCommand"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def login_envelope(version):
    ns = SOAP11 if version == 11 else SOAP12
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{ns}"><soap:Body>'
        f'<Login xmlns="{SC_NS}"><instanceId>00000000-0000-0000-0000-000000000000</instanceId>'
        "<currentToken></currentToken></Login></soap:Body></soap:Envelope>"
    )


def login_token(text):
    root = ET.fromstring(text)
    return root.find(f".//{{{SC_NS}}}Token").text, int(
        root.find(f".//{{{SC_NS}}}MicroSeconds").text
    )


def main():
    base, user, password, device = sys.argv[1:5]
    out = {}
    s = requests.Session()
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    # 1. Identity provider, Windows user: NTLM on the token request.
    r = s.post(
        f"{base}/IDP/connect/token",
        headers=form,
        data="grant_type=windows_credentials&client_id=GrantValidatorClient",
        auth=HttpNtlmAuth(user, password),
        verify=False,
    )
    out["idp_windows_status"] = r.status_code
    token = r.json()
    out["idp_windows_token_type"] = token.get("token_type")
    out["idp_windows_expires_in"] = token.get("expires_in")

    # 2. Identity provider, basic user through the API gateway path.
    r = s.post(
        f"{base}/API/IDP/connect/token",
        headers=form,
        data=f"grant_type=password&username={user}&password={password}&client_id=GrantValidatorClient",
        verify=False,
    )
    out["idp_basic_status"] = r.status_code

    # 3. OAuth SOAP Login with the bearer token (WCF, SOAP 1.1).
    r = s.post(
        f"{base}/ManagementServer/ServerCommandServiceOAuth.svc",
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '"http://videoos.net/2/XProtectCSServerCommand/IServerCommandService/Login"',
            "Authorization": f"Bearer {token['access_token']}",
        },
        data=login_envelope(11),
        verify=False,
    )
    out["oauth_login_status"] = r.status_code
    soap_token, ttl = login_token(r.text)
    out["oauth_token_prefix"] = soap_token[:6]
    out["oauth_ttl_micros"] = ttl

    # 4. Manual recording with an upper-case, braced GUID.
    start = (
        f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body>'
        f'<StartManualRecording xmlns="{RC_NS}"><token>{soap_token}</token>'
        f"<deviceIds><guid>{{{device.upper()}}}</guid></deviceIds></StartManualRecording>"
        "</soap:Body></soap:Envelope>"
    )
    r = s.post(
        f"{base}/RecorderCommandService/RecorderCommandService.asmx",
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{RC_NS}/StartManualRecording"',
        },
        data=start,
        verify=False,
    )
    out["start_status"] = r.status_code
    root = ET.fromstring(r.text)
    out["start_device"] = root.find(f".//{{{RC_NS}}}DeviceId").text
    out["start_result_code"] = int(root.find(f".//{{{RC_NS}}}ResultCode").text)

    # 5. The windows SOAP Login (ASMX, SOAP 1.2) with NTLM.
    r = s.post(
        f"{base}/ServerAPI/ServerCommandService.asmx",
        headers={
            "Content-Type": 'application/soap+xml; charset=utf-8; action="http://videoos.net/2/XProtectCSServerCommand/Login"'
        },
        data=login_envelope(12),
        auth=HttpNtlmAuth(user, password),
        verify=False,
    )
    out["windows_soap_login_status"] = r.status_code
    out["windows_soap_token_prefix"] = login_token(r.text)[0][:6]

    # 6. A wrong password: NTLM is refused with a 401.
    r = requests.post(
        f"{base}/IDP/connect/token",
        headers=form,
        data="grant_type=windows_credentials&client_id=GrantValidatorClient",
        auth=HttpNtlmAuth(user, password + "x"),
        verify=False,
    )
    out["wrong_password_status"] = r.status_code

    print(json.dumps(out))


if __name__ == "__main__":
    main()
