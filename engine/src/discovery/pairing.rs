//! Pairing cameras across sites: the same physical camera appears on every
//! site under its own device GUID. A camera pairs by **name** when the name
//! is on every site exactly once; the rest by **hardware address +
//! channel**, on the same condition. Anything else is not guessed: it is
//! reported with the reason (no counterpart, or a name or address that
//! more than one camera of a site carries).

use std::collections::HashMap;

use super::inventory::{normalize_address, SiteInventory};

/// How a pair was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairedBy {
    Name,
    Address,
}

/// One physical camera: its index in every site's `cameras`, in site order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedCamera {
    pub cameras: Vec<usize>,
    pub by: PairedBy,
}

/// Why a camera was not paired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnpairedReason {
    /// No camera of that name, nor of that hardware address + channel, on
    /// these sites.
    NoCounterpart { missing_on: Vec<usize> },
    /// Its name is carried by `count` cameras of one site (`site`), and its
    /// address + channel did not pair it either.
    AmbiguousName { site: usize, count: usize },
    /// Its address + channel is carried by `count` cameras of `site`.
    AmbiguousAddress { site: usize, count: usize },
}

/// A camera of `site` left unpaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpaired {
    pub site: usize,
    pub camera: usize,
    pub reason: UnpairedReason,
}

/// The outcome: pairs in the first site's camera order, then what is left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairing {
    pub paired: Vec<PairedCamera>,
    pub unpaired: Vec<Unpaired>,
}

impl Pairing {
    /// Every camera of every site is in a pair.
    pub fn complete(&self) -> bool {
        self.unpaired.is_empty()
    }
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Per site: key → the site's cameras with that key (among `open` ones).
fn index(
    sites: &[&SiteInventory],
    open: &[Vec<bool>],
    key: impl Fn(&SiteInventory, usize) -> Option<String>,
) -> Vec<HashMap<String, Vec<usize>>> {
    sites
        .iter()
        .enumerate()
        .map(|(s, inv)| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (c, _) in open[s].iter().enumerate().filter(|(_, &o)| o) {
                if let Some(k) = key(inv, c) {
                    m.entry(k).or_default().push(c);
                }
            }
            m
        })
        .collect()
}

/// Pairs across one pass: a key on every site exactly once makes a pair.
fn pass(
    sites: &[&SiteInventory],
    open: &mut [Vec<bool>],
    by: PairedBy,
    key: impl Fn(&SiteInventory, usize) -> Option<String> + Copy,
    out: &mut Vec<PairedCamera>,
) -> Vec<HashMap<String, Vec<usize>>> {
    let idx = index(sites, open, key);
    for c in 0..sites[0].cameras.len() {
        if !open[0][c] {
            continue;
        }
        let Some(k) = key(sites[0], c) else { continue };
        let found: Option<Vec<usize>> = idx
            .iter()
            .map(|m| match m.get(&k).map(Vec::as_slice) {
                Some(&[only]) => Some(only),
                _ => None,
            })
            .collect();
        if let Some(cameras) = found {
            for (s, &cam) in cameras.iter().enumerate() {
                open[s][cam] = false;
            }
            out.push(PairedCamera { cameras, by });
        }
    }
    idx
}

fn address_key(inv: &SiteInventory, c: usize) -> Option<String> {
    let address = normalize_address(&inv.hardware_of(c).address);
    (!address.is_empty()).then(|| format!("{address}#{}", inv.cameras[c].channel))
}

/// Pairs the cameras of `sites` (at least one).
pub fn pair(sites: &[&SiteInventory]) -> Pairing {
    let mut open: Vec<Vec<bool>> = sites.iter().map(|s| vec![true; s.cameras.len()]).collect();
    let mut paired = Vec::new();
    if sites.is_empty() {
        return Pairing::default();
    }
    let by_name = pass(
        sites,
        &mut open,
        PairedBy::Name,
        |inv, c| Some(name_key(&inv.cameras[c].name)),
        &mut paired,
    );
    let by_address = pass(
        sites,
        &mut open,
        PairedBy::Address,
        address_key,
        &mut paired,
    );
    paired.sort_by_key(|p| p.cameras[0]);

    let mut unpaired = Vec::new();
    for (s, inv) in sites.iter().enumerate() {
        for (c, _) in open[s].iter().enumerate().filter(|(_, &o)| o) {
            let name = name_key(&inv.cameras[c].name);
            let address = address_key(inv, c);
            let crowded = |maps: &[HashMap<String, Vec<usize>>], k: &str| {
                maps.iter()
                    .enumerate()
                    .find_map(|(site, m)| match m.get(k) {
                        Some(v) if v.len() > 1 => Some((site, v.len())),
                        _ => None,
                    })
            };
            let reason = if let Some((site, count)) = crowded(&by_name, &name) {
                UnpairedReason::AmbiguousName { site, count }
            } else if let Some((site, count)) =
                address.as_deref().and_then(|k| crowded(&by_address, k))
            {
                UnpairedReason::AmbiguousAddress { site, count }
            } else {
                let missing_on = (0..sites.len())
                    .filter(|&other| {
                        other != s
                            && !by_name[other].contains_key(&name)
                            && address
                                .as_deref()
                                .is_none_or(|k| !by_address[other].contains_key(k))
                    })
                    .collect();
                UnpairedReason::NoCounterpart { missing_on }
            };
            unpaired.push(Unpaired {
                site: s,
                camera: c,
                reason,
            });
        }
    }
    Pairing { paired, unpaired }
}
