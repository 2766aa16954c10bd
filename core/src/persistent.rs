//! Reading part of a persistent vector (`im::Vector`), the collection that lets a copy of a
//! whole simulated run share what it holds with the original (see `scenario::timeline`).
//!
//! Such a vector is a tree: indexing is cheap, but `iter().skip(n)` walks the `n` elements
//! before the ones wanted. [`range`] goes to them directly.

use std::ops::Range;

/// The elements of `vector` in `range` (which must lie within it), in order, found without
/// walking the ones before.
pub fn range<A: Clone>(vector: &im::Vector<A>, range: Range<usize>) -> impl Iterator<Item = &A> {
    // `Focus::narrow` refuses an empty range: an empty range is no focus at all.
    (range.start < range.end)
        .then(|| vector.focus().narrow(range))
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_its_elements_and_an_empty_range_is_none() {
        let vector: im::Vector<u32> = (0..1000).collect();
        assert_eq!(
            range(&vector, 990..1000).copied().collect::<Vec<_>>(),
            (990..1000).collect::<Vec<_>>()
        );
        assert_eq!(range(&vector, 1000..1000).count(), 0);
        assert_eq!(range(&vector, 5..5).count(), 0);
    }
}
