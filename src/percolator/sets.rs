//! Sets of classes as the percolator matches them. An offer is matched in a dense scratch
//! bitset over every class slot (a few tens of kilobytes at a million alerts): each step ANDs
//! or ORs whole words, and no set is allocated per offer. The sets it is combined with are
//! dense bitsets ([`Bits`]: the sets that hold most classes) or [`ClassSet`]s: a roaring
//! bitmap, plus a dense copy once the set holds one class slot in 128 (the contract type, a
//! popular word), so that combining it costs a pass over words rather than one step per class.

use roaring::RoaringBitmap;

/// The word of a class slot in a bitset, and its bit in that word.
#[inline]
pub(crate) fn slot(c: u32) -> (usize, u64) {
    ((c / 64) as usize, 1u64 << (c % 64))
}

/// Sets the slot `c` of the bitset `words` (a slot beyond its end is left alone).
#[inline]
pub(crate) fn set(words: &mut [u64], c: u32) {
    let (w, bit) = slot(c);
    if let Some(word) = words.get_mut(w) {
        *word |= bit;
    }
}

/// True when the bitset `words` holds the slot `c`.
#[inline]
pub(crate) fn has(words: &[u64], c: u32) -> bool {
    let (w, bit) = slot(c);
    words.get(w).is_some_and(|word| word & bit != 0)
}

/// A dense bitset over class slots, with its count.
#[derive(Default, Clone)]
pub(crate) struct Bits {
    words: Vec<u64>,
    len: u64,
}

impl Bits {
    /// Adds `c`; true when it was not there.
    pub fn insert(&mut self, c: u32) -> bool {
        let (w, bit) = slot(c);
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        let new = self.words[w] & bit == 0;
        self.words[w] |= bit;
        self.len += u64::from(new);
        new
    }

    /// Takes `c` out; true when it was there.
    pub fn remove(&mut self, c: u32) -> bool {
        let (w, bit) = slot(c);
        let Some(word) = self.words.get_mut(w) else {
            return false;
        };
        let held = *word & bit != 0;
        *word &= !bit;
        self.len -= u64::from(held);
        held
    }

    /// True when `c` is in the set.
    pub fn contains(&self, c: u32) -> bool {
        has(&self.words, c)
    }

    /// The words, the lowest slots first.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Number of classes held.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when no class is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// Calls `f` with each slot set in `word`, the `w`-th word of a bitset.
#[inline]
pub(crate) fn for_each_bit(w: usize, mut word: u64, mut f: impl FnMut(u32)) {
    while word != 0 {
        f(w as u32 * 64 + word.trailing_zeros());
        word &= word - 1;
    }
}

/// A set holds a dense copy once it holds one class slot in this many: a pass over its words
/// (a 64th of the slots) then costs about what reading its classes one by one would.
const DENSE_SHARE: u64 = 128;

/// A set of classes: a roaring bitmap, and a dense copy once it is large (see the module).
#[derive(Default, Clone)]
pub(crate) struct ClassSet {
    sparse: RoaringBitmap,
    dense: Option<Bits>,
}

impl ClassSet {
    /// Adds `c`, in a percolator of `slots` class slots.
    pub fn insert(&mut self, c: u32, slots: usize) {
        self.sparse.insert(c);
        match &mut self.dense {
            Some(dense) => {
                dense.insert(c);
            }
            None if self.sparse.len() >= 512 && self.sparse.len() * DENSE_SHARE >= slots as u64 => {
                let mut dense = Bits::default();
                for c in &self.sparse {
                    dense.insert(c);
                }
                self.dense = Some(dense);
            }
            None => {}
        }
    }

    /// Takes `c` out (a dense copy stays: the set was large once and may grow again).
    pub fn remove(&mut self, c: u32) {
        self.sparse.remove(c);
        if let Some(dense) = &mut self.dense {
            dense.remove(c);
        }
    }

    /// True when no class is held.
    pub fn is_empty(&self) -> bool {
        self.sparse.is_empty()
    }

    /// Leaves in `scratch` the classes that are in `free` or in this set.
    pub fn restrict(&self, scratch: &mut [u64], free: &Bits, kept: &mut Vec<u32>) {
        match &self.dense {
            Some(dense) => {
                and_either(scratch, free.words(), dense.words());
            }
            None => {
                kept.clear();
                self.sparse.iter().for_each(|c| {
                    if has(scratch, c) {
                        kept.push(c);
                    }
                });
                and_words(scratch, free);
                for &c in kept.iter() {
                    set(scratch, c);
                }
            }
        }
    }

    /// Calls `f` with each class of this set that `scratch` holds, and takes it out of
    /// `scratch` (so that a class reached through several sets is seen once).
    pub fn take_from(&self, scratch: &mut [u64], mut f: impl FnMut(u32)) {
        match &self.dense {
            Some(dense) => {
                for (w, (s, &d)) in scratch.iter_mut().zip(dense.words()).enumerate() {
                    let hit = *s & d;
                    if hit != 0 {
                        *s &= !hit;
                        for_each_bit(w, hit, &mut f);
                    }
                }
            }
            None => {
                self.sparse.iter().for_each(|c| {
                    let (w, bit) = slot(c);
                    if let Some(s) = scratch.get_mut(w)
                        && *s & bit != 0
                    {
                        *s &= !bit;
                        f(c);
                    }
                });
            }
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<RoaringBitmap>()
            + self.sparse.serialized_size()
            + self.dense.as_ref().map_or(0, Bits::heap_bytes)
    }
}

/// `scratch` AND `set`, word by word (slices of equal lengths: the loop is vectorized).
pub(crate) fn and_words(scratch: &mut [u64], set: &Bits) {
    let n = set.words.len().min(scratch.len());
    let (head, tail) = scratch.split_at_mut(n);
    for (s, &x) in head.iter_mut().zip(&set.words[..n]) {
        *s &= x;
    }
    tail.fill(0);
}

/// `scratch` AND (`a` OR `b`), word by word; a word beyond a set's end is 0.
fn and_either(scratch: &mut [u64], a: &[u64], b: &[u64]) {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let n1 = short.len().min(scratch.len());
    let n2 = long.len().min(scratch.len());
    for ((s, &x), &y) in scratch[..n1].iter_mut().zip(&short[..n1]).zip(&long[..n1]) {
        *s &= x | y;
    }
    for (s, &y) in scratch[n1..n2].iter_mut().zip(&long[n1..n2]) {
        *s &= y;
    }
    scratch[n2..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(of: &[u32]) -> Bits {
        let mut b = Bits::default();
        for &c in of {
            b.insert(c);
        }
        b
    }

    fn listed(scratch: &[u64]) -> Vec<u32> {
        let mut out = Vec::new();
        for (w, &word) in scratch.iter().enumerate() {
            for_each_bit(w, word, |c| out.push(c));
        }
        out
    }

    #[test]
    fn bits_count_what_they_hold() {
        let mut b = bits(&[3, 64, 64, 700]);
        assert_eq!(b.len(), 3);
        assert!(b.contains(64) && !b.contains(65) && !b.contains(100_000));
        assert!(b.remove(64) && !b.remove(64) && !b.remove(100_000));
        assert_eq!((b.len(), b.words()[0]), (2, 1 << 3));
    }

    #[test]
    fn sparse_and_dense_sets_restrict_and_take_alike() {
        let slots = 4096;
        let members: Vec<u32> = (0..slots).filter(|c| c % 3 == 0).collect();
        let mut sparse = ClassSet::default();
        let mut dense = ClassSet::default();
        for &c in &members {
            sparse.insert(c, 1 << 30); // never dense: too few for so many slots
            dense.insert(c, slots as usize);
        }
        assert!(sparse.dense.is_none() && dense.dense.is_some());
        let free = bits(&(0..slots).filter(|c| c % 5 == 0).collect::<Vec<_>>());
        let start: Vec<u64> = (0..slots / 64)
            .map(|w| 0x5555_5555_5555_5555u64 ^ u64::from(w))
            .collect();
        let expected: Vec<u32> = listed(&start)
            .into_iter()
            .filter(|c| c % 3 == 0 || c % 5 == 0)
            .collect();
        let mut kept = Vec::new();
        for set in [&sparse, &dense] {
            let mut scratch = start.clone();
            set.restrict(&mut scratch, &free, &mut kept);
            assert_eq!(listed(&scratch), expected);
            let mut taken = Vec::new();
            set.take_from(&mut scratch, |c| taken.push(c));
            let threes: Vec<u32> = expected.iter().copied().filter(|c| c % 3 == 0).collect();
            assert_eq!(taken, threes);
            assert!(listed(&scratch).iter().all(|c| c % 3 != 0));
        }
        dense.remove(3);
        sparse.remove(3);
        let mut scratch = vec![u64::MAX; 1];
        dense.take_from(&mut scratch, |c| assert_ne!(c, 3));
        assert_eq!(scratch[0] & (1 << 3), 1 << 3);
    }
}
