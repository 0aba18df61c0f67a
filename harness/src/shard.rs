//! Sharding a suite across machines: `--shard I/N` keeps a stable, balanced
//! slice of the selected scenarios.
//!
//! The rule, like test runners that shard across CI workers: take the
//! scenarios the selection keeps (filter, tag) in suite order (sorted by file
//! path), number them from 0, and give scenario `k` to shard `k mod N + 1`.
//! Every scenario lands in exactly one shard, shard sizes differ by at most
//! one, and the slice depends only on the list of selected files — never on
//! timing, the machine or a random draw — so N jobs with the same arguments
//! and `--shard 1/N` … `--shard N/N` cover the suite exactly once.
//! `dualrec report merge` puts the shards' `suite.json` files back together.

use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// `--shard` was not `I/N` with `1 ≤ I ≤ N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard `{0}`: expected I/N with 1 <= I <= N, e.g. 2/4")]
pub struct ShardError(pub String);

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = || ShardError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let index: usize = i.trim().parse().map_err(|_| err())?;
        let count: usize = n.trim().parse().map_err(|_| err())?;
        if index == 0 || count == 0 || index > count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the item at `position` (0-based, in suite order) is ours.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }

    /// This shard's items of `items` (in suite order), order kept.
    pub fn select<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(k, _)| self.owns(*k))
            .map(|(_, x)| x)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_rejects() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!(Shard { index: 3, count: 7 }.to_string(), "3/7");
    }

    #[test]
    fn shard_slices_cover_everything_once_and_balance() {
        for n in 1..=6 {
            for len in 0..20 {
                let items: Vec<usize> = (0..len).collect();
                let mut seen = Vec::new();
                let mut sizes = Vec::new();
                for i in 1..=n {
                    let part = Shard { index: i, count: n }.select(items.clone());
                    sizes.push(part.len());
                    seen.extend(part);
                }
                seen.sort();
                assert_eq!(seen, items);
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "{sizes:?}");
            }
        }
    }
}
