//! End-to-end: `dualrec recorder` as a separate process, spoken to with
//! hand-written SOAP over raw HTTP (no dualrec code on the client side), the
//! way a third-party XProtect client would: Login (SOAP 1.2, ASMX endpoint,
//! Basic auth), StartManualRecording (`a:guid` list), IsManualRecording,
//! StopManualRecording, then SequencesGet shows the footage with its
//! pre-buffer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};

/// Kills the mock site when the test ends, however it ends.
struct Site(Child);

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// POSTs `body` and returns (status, body) of the reply.
fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the mock site");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send request");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read reply");
    let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

/// Text of the first `<name>…</name>` in `xml`.
fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {xml}"))
        + open.len();
    let len = xml[start..]
        .find(&format!("</{name}>"))
        .unwrap_or_else(|| panic!("no </{name}> in {xml}"));
    &xml[start..start + len]
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("`{text}` is not a UTC time: {e}"))
        .with_timezone(&Utc)
}

fn assert_near(what: &str, got: DateTime<Utc>, want: DateTime<Utc>, ms: i64) {
    let off = (got - want).num_milliseconds();
    assert!(off.abs() <= ms, "{what}: {got} is {off} ms from {want}");
}

const RECORDER: &str = "/RecorderCommandService/RecorderCommandService.asmx";

fn recorder_call(addr: SocketAddr, op: &str, inner: &str) -> String {
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body>
    <{op} xmlns="http://videoos.net/2/XProtectCSRecorderCommand">
{inner}
    </{op}>
  </soap:Body>
</soap:Envelope>"#
    );
    let action = format!("\"http://videoos.net/2/XProtectCSRecorderCommand/{op}\"");
    let (status, reply) = post(
        addr,
        RECORDER,
        &[
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", &action),
        ],
        &body,
    );
    assert_eq!(status, 200, "{op}: {reply}");
    reply
}

#[test]
fn recorder_process_speaks_soap() {
    let child = Command::new(env!("CARGO_BIN_EXE_dualrec"))
        .args([
            "recorder",
            "--listen",
            "127.0.0.1:0",
            "--control",
            "127.0.0.1:0",
            "--site",
            "e2e",
            "--cameras",
            "2",
            "--username",
            "dualrec",
            "--password-env",
            "DUALREC_E2E_PASSWORD",
        ])
        .env("DUALREC_E2E_PASSWORD", "secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dualrec recorder");
    let mut site = Site(child);

    // stdout: the device GUIDs; stderr: "listening on ADDR (control ADDR)".
    let stdout = site.0.stdout.take().expect("stdout is piped");
    let stderr = site.0.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send((true, line));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx2.send((false, line));
        }
    });
    let mut devices = Vec::new();
    let mut service: Option<SocketAddr> = None;
    while devices.len() < 2 || service.is_none() {
        let (out, line) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the mock site prints its devices and address");
        if out {
            devices.push(line.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("listening on ") {
            let addr = rest.split(' ').next().unwrap_or("");
            service = Some(addr.parse().expect("a socket address"));
        }
    }
    let addr = service.expect("service address");
    let device = devices[0].clone();

    // Login: SOAP 1.2 with Basic credentials on the basic-user (WCF)
    // endpoint; the windows (ASMX) endpoint takes NTLM only (real NTLM is
    // exercised in tests/real_sites.rs and tests/third_party_client.rs).
    let login = r#"<?xml version="1.0" encoding="utf-8"?>
<soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">
  <soap12:Body>
    <Login xmlns="http://videoos.net/2/XProtectCSServerCommand">
      <instanceId>00000000-0000-0000-0000-000000000000</instanceId>
      <currentToken />
    </Login>
  </soap12:Body>
</soap12:Envelope>"#;
    let content_type = "application/soap+xml; charset=utf-8; action=\"http://videoos.net/2/XProtectCSServerCommand/Login\"";
    let (status, _) = post(
        addr,
        "/ServerAPI/ServerCommandService.asmx",
        &[("Content-Type", content_type)],
        login,
    );
    assert_eq!(status, 401, "Login without credentials");
    let basic = ("Authorization", "Basic ZHVhbHJlYzpzZWNyZXQ="); // dualrec:secret
    let (status, _) = post(
        addr,
        "/ServerAPI/ServerCommandService.asmx",
        &[("Content-Type", content_type), basic],
        login,
    );
    assert_eq!(status, 401, "Basic on the Windows-authenticated endpoint");
    let (status, reply) = post(
        addr,
        "/ManagementServer/ServerCommandService.svc",
        &[("Content-Type", content_type), basic],
        login,
    );
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply.contains("http://www.w3.org/2003/05/soap-envelope"),
        "answered in SOAP 1.2: {reply}"
    );
    let token = element(&reply, "Token").to_owned();
    assert!(token.starts_with("TOKEN#"), "{token}");
    assert_eq!(element(&reply, "MicroSeconds"), "14400000000");

    let guids = format!(
        "      <token>{token}</token>\n      <deviceIds xmlns:a=\"http://microsoft.com/wsdl/types/\">\n        <a:guid>{device}</a:guid>\n      </deviceIds>"
    );
    let before = Utc::now();
    let reply = recorder_call(addr, "StartManualRecording", &guids);
    let after = Utc::now();
    let started = before + (after - before) / 2;
    assert_eq!(element(&reply, "ResultCode"), "0", "{reply}");
    assert_eq!(element(&reply, "DeviceId"), device);

    let reply = recorder_call(addr, "IsManualRecording", &guids);
    assert_eq!(element(&reply, "IsManualRecording"), "true", "{reply}");

    std::thread::sleep(Duration::from_millis(1500));
    let before = Utc::now();
    let reply = recorder_call(addr, "StopManualRecording", &guids);
    let after = Utc::now();
    let stopped = before + (after - before) / 2;
    assert_eq!(element(&reply, "ResultCode"), "0", "{reply}");
    let reply = recorder_call(addr, "IsManualRecording", &guids);
    assert_eq!(element(&reply, "IsManualRecording"), "false", "{reply}");

    // A zone-less minTime (read as UTC) and a `Z` maxTime, as clients send.
    let min = (started - chrono::Duration::seconds(60)).format("%Y-%m-%dT%H:%M:%S");
    let max =
        (stopped + chrono::Duration::seconds(60)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let query = format!(
        "      <token>{token}</token>\n      <deviceId>{device}</deviceId>\n      \
         <sequenceType>f9c62604-d0c5-4050-ae25-72de51639b14</sequenceType>\n      \
         <minTime>{min}</minTime>\n      <maxTime>{max}</maxTime>\n      <maxCount>10</maxCount>"
    );
    let reply = recorder_call(addr, "SequencesGet", &query);
    assert_eq!(reply.matches("<SequenceEntry>").count(), 1, "{reply}");
    let begin = utc(element(&reply, "TimeBegin"));
    let end = utc(element(&reply, "TimeEnd"));
    assert_near(
        "footage begin (3 s pre-buffer)",
        begin,
        started - chrono::Duration::seconds(3),
        250,
    );
    assert_near("footage end", end, stopped, 250);

    drop(site);
}
