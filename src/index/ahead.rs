//! Walks over scattered rows with their memory asked for ahead. The tables the collectors
//! read are tens of megabytes at a million offers, beyond the processor's caches, and the
//! documents a query or a filter keeps are scattered over them: read one after the other,
//! each row is a miss of some 100–200 ns that the next one waits for. Asked for a batch
//! ahead, the misses of a whole batch overlap while the batch before it is worked on.

/// Documents (or positions) per batch.
const BATCH: usize = 32;

/// Asks for the cache line holding `value` (a hint: nothing is read, nothing can fault).
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86_64 processor has; a prefetch reads
    // nothing into the program and faults on no address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Calls `f` on each of `items` in order, `fetch` (which prefetches what `f` will read) having
/// been called on each item a batch before.
#[inline]
pub(crate) fn for_each_ahead(
    items: impl Iterator<Item = u32>,
    fetch: impl Fn(u32),
    mut f: impl FnMut(u32),
) {
    let mut items = items.peekable();
    let fill = |items: &mut std::iter::Peekable<_>, batch: &mut [u32; BATCH]| {
        let mut n = 0;
        while n < BATCH
            && let Some(i) = items.next()
        {
            fetch(i);
            batch[n] = i;
            n += 1;
        }
        n
    };
    let (mut current, mut next) = ([0u32; BATCH], [0u32; BATCH]);
    let mut n = fill(&mut items, &mut current);
    while n > 0 {
        let m = fill(&mut items, &mut next);
        for &i in &current[..n] {
            f(i);
        }
        (current, n) = (next, m);
    }
}

/// A walk over documents that arrive by blocks (tantivy's): each block's rows are asked for
/// when it arrives, and the block before it is worked on meanwhile.
pub(crate) struct Pipeline<const N: usize> {
    blocks: [[u32; N]; 2],
    lens: [usize; 2],
    /// The block taken last.
    last: usize,
}

impl<const N: usize> Pipeline<N> {
    pub(crate) fn new() -> Self {
        Pipeline {
            blocks: [[0; N]; 2],
            lens: [0; 2],
            last: 0,
        }
    }

    /// Takes `docs` (at most `N`), calling `fetch` on each, and gives back the block taken
    /// before them (empty the first time), to be worked on now.
    #[inline]
    pub(crate) fn push(&mut self, docs: &[u32], fetch: impl Fn(u32)) -> &[u32] {
        let (held, incoming) = (self.last, 1 - self.last);
        self.blocks[incoming][..docs.len()].copy_from_slice(docs);
        self.lens[incoming] = docs.len();
        for &d in docs {
            fetch(d);
        }
        self.last = incoming;
        &self.blocks[held][..self.lens[held]]
    }

    /// The last block taken, to be worked on when no other comes.
    pub(crate) fn last(&self) -> &[u32] {
        &self.blocks[self.last][..self.lens[self.last]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_worked_on_once_in_order_after_its_fetch() {
        for n in [0u32, 1, 31, 32, 33, 64, 65, 1000] {
            let fetched = std::cell::RefCell::new(Vec::new());
            let mut seen = Vec::new();
            for_each_ahead(
                0..n,
                |i| fetched.borrow_mut().push(i),
                |i| {
                    assert!(
                        fetched.borrow().contains(&i),
                        "{i} worked on before its fetch"
                    );
                    seen.push(i);
                },
            );
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
            assert_eq!(*fetched.borrow(), seen);
        }
    }

    #[test]
    fn a_pipeline_gives_back_each_block_once_the_next_is_fetched() {
        let mut p = Pipeline::<4>::new();
        let mut seen = Vec::new();
        let blocks: [&[u32]; 3] = [&[1, 2, 3, 4], &[5, 6], &[7]];
        for b in blocks {
            seen.push(p.push(b, |_| {}).to_vec());
        }
        seen.push(p.last().to_vec());
        assert_eq!(seen, vec![vec![], vec![1, 2, 3, 4], vec![5, 6], vec![7]]);
    }
}
