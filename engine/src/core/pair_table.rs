//! [`PairTable`]: every (camera, site) pair, named `camera * nsites + site`
//! as everywhere in the engine, but stored recorder by recorder.
//!
//! Stored in name order, the pairs of one recorder lie `nsites × recorders`
//! pairs apart: with ten thousand cameras on forty recorders, a probe's walk
//! over a recorder's pairs, and the walk over its answer, touched a fresh
//! cache line (and a fresh page) for every pair, a cost per pair that grew
//! with the installation. The table keeps the names and stores each
//! recorder's pairs side by side in camera order, so those walks read
//! memory in a row. It owns only the placement of pairs in memory: what a
//! pair means is `pair.rs`'s business.

use std::ops::{Index, IndexMut};

use super::pair::Pair;

#[derive(Debug)]
pub(crate) struct PairTable {
    /// Site by site, recorder by recorder, in camera order; pairs without
    /// a recorder on their site last.
    stored: Vec<Pair>,
    /// `at[p]`: where pair `p` is in `stored`. Four bytes, not eight: every
    /// click and answer reads it first, and at 100,000 cameras half the size
    /// stays in cache where the whole did not.
    at: Vec<u32>,
}

impl PairTable {
    /// The table of `pairs`, given in name order (`camera * nsites + site`).
    pub fn new(pairs: Vec<Pair>, nsites: usize) -> Self {
        let nsites = nsites.max(1);
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by_key(|&p| {
            let recorder = pairs[p].slot.as_ref().map_or(usize::MAX, |s| s.recorder);
            (p % nsites, recorder, p / nsites)
        });
        let mut at = vec![0; pairs.len()];
        for (i, &p) in order.iter().enumerate() {
            at[p] = u32::try_from(i).expect("fewer than 2^32 (camera, site) pairs");
        }
        let mut named: Vec<Option<Pair>> = pairs.into_iter().map(Some).collect();
        let stored = order.iter().filter_map(|&p| named[p].take()).collect();
        PairTable { stored, at }
    }

    /// Every pair in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Pair> + '_ {
        self.at.iter().map(|&i| &self.stored[i as usize])
    }
}

impl Index<usize> for PairTable {
    type Output = Pair;
    fn index(&self, p: usize) -> &Pair {
        &self.stored[self.at[p] as usize]
    }
}

impl IndexMut<usize> for PairTable {
    fn index_mut(&mut self, p: usize) -> &mut Pair {
        &mut self.stored[self.at[p] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::pair::Slot;
    use crate::core::DeviceId;

    fn placed(recorder: usize, name: &str) -> Pair {
        Pair::new(Some(Slot {
            recorder,
            device: DeviceId::new(name),
            limit: None,
            prebuffer: 0,
        }))
    }

    #[test]
    fn names_find_their_pairs_and_recorders_lie_together() {
        // Three cameras on two sites: camera c on recorder c % 2, except
        // camera 1 which has no device on site 1.
        let pairs = vec![
            placed(0, "c0s0"),
            placed(0, "c0s1"),
            placed(1, "c1s0"),
            Pair::new(None),
            placed(0, "c2s0"),
            placed(0, "c2s1"),
        ];
        let table = PairTable::new(pairs, 2);
        let device = |p: usize| table[p].slot.as_ref().map(|s| s.device.to_string());
        assert_eq!(device(0).as_deref(), Some("c0s0"));
        assert_eq!(device(3), None);
        assert_eq!(device(4).as_deref(), Some("c2s0"));
        assert_eq!(device(5).as_deref(), Some("c2s1"));
        let names: Vec<Option<String>> = table
            .iter()
            .map(|p| p.slot.as_ref().map(|s| s.device.to_string()))
            .collect();
        assert_eq!(names.len(), 6);
        assert_eq!(names[2].as_deref(), Some("c1s0"));
        // Site 0's recorder 0 holds cameras 0 and 2: stored next to each other.
        assert_eq!(table.at[4], table.at[0] + 1);
        let stored: Vec<Option<String>> = table
            .stored
            .iter()
            .map(|p| p.slot.as_ref().map(|s| s.device.to_string()))
            .collect();
        let want = ["c0s0", "c2s0", "c1s0", "c0s1", "c2s1"];
        assert_eq!(stored[..5], want.map(|s| Some(s.to_owned())));
        assert_eq!(stored[5], None);
    }
}
