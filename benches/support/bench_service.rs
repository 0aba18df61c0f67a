//! The service benches' engine config: two mock sites, one write key and
//! `cameras` cameras with one device on each site, spread over the sites'
//! recording servers. Shared by path (`#[path = "support/bench_service.rs"]`).

// Each bench uses part of it.
#![allow(dead_code)]

use engine::config::SecretSource;

pub const WRITE_KEY: &str = "bench-write-key-0123456789";

pub struct Secrets;

impl SecretSource for Secrets {
    fn env(&self, name: &str) -> Option<String> {
        match name {
            "BENCH_KEY" => Some(WRITE_KEY.into()),
            "BENCH_PW" => Some("pw".into()),
            _ => None,
        }
    }
    fn read(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

pub fn device(site: usize, i: usize) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", 0xb0 + site, i)
}

/// The recording server (0-based) that camera `i` (1-based) is on when a
/// site has `recorders` of them: round robin, as in the scenarios.
pub fn recorder_of(i: usize, recorders: usize) -> usize {
    (i - 1) % recorders.max(1)
}

/// The config for sites with one recording server each (the mock site's
/// service URL).
pub fn config_text(urls: [&str; 2], cameras: usize, data_dir: &std::path::Path) -> String {
    config_text_on(urls, cameras, 1, data_dir)
}

/// The config for sites with `recorders` recording servers each, served by
/// one mock site per site (recorder `r` at `URL/recorder/r/`, recorder 0 at
/// `URL/`); camera `i` is on [`recorder_of`]`(i, recorders)` on both sites.
pub fn config_text_on(
    urls: [&str; 2],
    cameras: usize,
    recorders: usize,
    data_dir: &std::path::Path,
) -> String {
    let mut t = format!(
        "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nseed = 1\n\n\
         [[api_key]]\nname = \"bench\"\nkey_env = \"BENCH_KEY\"\nrole = \"write\"\n",
        data_dir.display()
    );
    for (name, url) in ["primary", "secondary"].into_iter().zip(urls) {
        let recorder_urls = if recorders <= 1 {
            format!("recorder_url = \"{url}\"")
        } else {
            let list: Vec<String> = (0..recorders)
                .map(|r| match r {
                    0 => format!("\"{url}/\""),
                    r => format!("\"{url}/recorder/{r}/\""),
                })
                .collect();
            format!("recorder_urls = [{}]", list.join(", "))
        };
        t.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nmanagement_url = \"{url}\"\n{recorder_urls}\n\
             username = \"dualrec\"\npassword_env = \"BENCH_PW\"\n"
        ));
    }
    for i in 1..=cameras {
        let devices = if recorders <= 1 {
            format!(
                "{{ primary = \"{}\", secondary = \"{}\" }}",
                device(0, i),
                device(1, i)
            )
        } else {
            let r = recorder_of(i, recorders);
            format!(
                "{{ primary = {{ device = \"{}\", recorder = {r} }}, secondary = {{ device = \"{}\", recorder = {r} }} }}",
                device(0, i),
                device(1, i)
            )
        };
        t.push_str(&format!(
            "\n[[camera]]\nname = \"cam-{i:06}\"\ndevices = {devices}\n"
        ));
    }
    t
}
