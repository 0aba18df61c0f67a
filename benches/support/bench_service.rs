//! The service benches' engine config: two mock sites, one write key and
//! `cameras` cameras with one device on each site. Shared by path
//! (`#[path = "support/bench_service.rs"]`).

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

pub fn config_text(urls: [&str; 2], cameras: usize, data_dir: &std::path::Path) -> String {
    let mut t = format!(
        "[engine]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nseed = 1\n\n\
         [[api_key]]\nname = \"bench\"\nkey_env = \"BENCH_KEY\"\nrole = \"write\"\n",
        data_dir.display()
    );
    for (name, url) in ["primary", "secondary"].into_iter().zip(urls) {
        t.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nmanagement_url = \"{url}\"\nrecorder_url = \"{url}\"\n\
             username = \"dualrec\"\npassword_env = \"BENCH_PW\"\n"
        ));
    }
    for i in 1..=cameras {
        t.push_str(&format!(
            "\n[[camera]]\nname = \"cam-{i:06}\"\ndevices = {{ primary = \"{}\", secondary = \"{}\" }}\n",
            device(0, i),
            device(1, i)
        ));
    }
    t
}
