//! A global allocator that asks Linux to back large allocations with 2 MB
//! pages.
//!
//! The guard's hot lookups land at random in big tables: ten million known
//! destinations are close to a gigabyte of hash table, and the Do-Not-Call
//! registry half a gigabyte. With 4 KB pages nearly every such lookup also
//! misses the TLB and walks the page table, itself a chain of cache misses;
//! with 2 MB pages the whole of both tables fits the TLB. Linux only uses
//! them for memory marked `MADV_HUGEPAGE` when transparent huge pages are in
//! `madvise` mode (the common default), so this allocator marks every
//! allocation of at least [`LARGE`] bytes, before its pages are first
//! touched. Smaller ones, and every platform but Linux, go to the allocator
//! beneath unchanged.
//!
//! The binaries install it over mimalloc (`#[global_allocator]`), whose
//! thread-local heaps make a block allocated on one thread and freed on
//! another cheap: the import's workers allocate every call they read and
//! the folding thread frees it. `examples/decide_bench.rs` and
//! `examples/dnc_bench.rs` measure with it, as the product runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// Allocations of this size or more are offered huge pages: one huge page.
pub const LARGE: usize = 2 << 20;

/// Allocator `A` (the system's by default), with large allocations marked
/// for huge pages.
pub struct HugePages<A = System>(A);

impl<A> HugePages<A> {
    pub const fn new(beneath: A) -> HugePages<A> {
        HugePages(beneath)
    }
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the marking on or off for allocations made from now on (the
/// benchmarks measure both ways in one run; a host short of memory may want
/// 4 KB pages, which never round a table's tail up to 2 MB). Where blocks
/// are placed does not change with it.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Where a block of `layout` is placed: a large block whose size is within
/// an eighth of a whole number of huge pages is aligned to a huge page and
/// padded to that number, so every byte of it can sit on one. Otherwise the
/// huge pages inside the block are used and its ragged ends are not: that
/// matters, because a hash table keeps its control bytes, which every
/// lookup reads, at its end. The padding is never written, and at most an
/// eighth of what was asked for.
fn placed(layout: Layout) -> Layout {
    let size = layout.size();
    if size < LARGE {
        return layout;
    }
    let padded = size.next_multiple_of(LARGE);
    if (padded - size) * 8 > size {
        return layout;
    }
    Layout::from_size_align(padded, layout.align().max(LARGE)).unwrap_or(layout)
}

// SAFETY: every block comes from `A` with the layout `placed` gives for
// the caller's layout, and goes back to it with that same layout (`placed`
// depends on nothing else). A placed layout is at least as large and as
// aligned as the caller's, so the block satisfies the caller's. The only
// other addition is advice about pages inside a block (see `advise`).
unsafe impl<A: GlobalAlloc> GlobalAlloc for HugePages<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let placed = placed(layout);
        // SAFETY: `placed` is non-zero as `layout` is; the caller upholds
        // `alloc`'s contract.
        let block = unsafe { self.0.alloc(placed) };
        advise(block, placed.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let placed = placed(layout);
        // SAFETY: as for `alloc`.
        let block = unsafe { self.0.alloc_zeroed(placed) };
        advise(block, placed.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from `A` with `placed(layout)`.
        unsafe { self.0.dealloc(block, placed(layout)) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = placed(layout);
        // SAFETY: the caller guarantees `new_size`, rounded up to the
        // alignment, does not overflow `isize`.
        let wanted = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = placed(wanted);
        if old == layout && new == wanted {
            // Neither is placed apart: the allocator beneath may grow in place.
            // SAFETY: `block` came from `A` with `layout`; the caller
            // upholds `realloc`'s contract.
            let moved = unsafe { self.0.realloc(block, layout, new_size) };
            if new_size > layout.size() {
                advise(moved, new_size);
            }
            return moved;
        }
        if old.size() == new.size() && old.align() == new.align() {
            // The new size still fits the padded block.
            return block;
        }
        // SAFETY: `new` is non-zero; the old block is valid for
        // `layout.size()` bytes, the new one for `new_size`, and the two do
        // not overlap; the old one goes back with the layout it came with.
        unsafe {
            let moved = self.0.alloc(new);
            if !moved.is_null() {
                advise(moved, new.size());
                std::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.0.dealloc(block, old);
            }
            moved
        }
    }
}

/// Marks the whole 4 KB pages inside `[block, block + size)` for huge pages.
#[cfg(target_os = "linux")]
fn advise(block: *mut u8, size: usize) {
    const PAGE: usize = 4096;
    if block.is_null() || size < LARGE || !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let start = (block as usize).next_multiple_of(PAGE);
    let end = (block as usize + size) / PAGE * PAGE;
    if end <= start {
        return;
    }
    // SAFETY: the range lies inside the block the allocator beneath has just
    // handed us, and MADV_HUGEPAGE is advice only: it never changes or frees
    // what the pages hold. A refusal (THP disabled, an old kernel) is
    // harmless and ignored.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_block: *mut u8, _size: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each test runs over the system allocator and over mimalloc, the
    /// binaries' choice.
    macro_rules! over_both {
        ($name:ident, $check:ident) => {
            #[test]
            fn $name() {
                $check(&HugePages::new(System));
                $check(&HugePages::new(mimalloc::MiMalloc));
            }
        };
    }

    over_both!(large_and_small_blocks_keep_their_contents_through_growth, grows);
    over_both!(blocks_near_whole_huge_pages_are_placed_on_them, places);
    over_both!(zeroed_blocks_are_zero, zeroes);

    fn grows(alloc: &impl GlobalAlloc) {
        for size in [64, LARGE - 1, LARGE, 3 * LARGE + 17] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: a non-zero layout; the block is written and read only
            // within its size and freed with the layout it has at the time.
            unsafe {
                let block = alloc.alloc(layout);
                assert!(!block.is_null());
                for i in (0..size).step_by(4093) {
                    *block.add(i) = (i % 251) as u8;
                }
                let grown = alloc.realloc(block, layout, size * 2);
                assert!(!grown.is_null());
                for i in (0..size).step_by(4093) {
                    assert_eq!(*grown.add(i), (i % 251) as u8, "byte {i} of a {size}-byte block");
                }
                alloc.dealloc(grown, Layout::from_size_align(size * 2, 8).unwrap());
            }
        }
    }

    fn places(alloc: &impl GlobalAlloc) {
        // Just under three huge pages: padded to three, aligned to one.
        let layout = Layout::from_size_align(3 * LARGE - 4096, 8).unwrap();
        assert_eq!(placed(layout), Layout::from_size_align(3 * LARGE, LARGE).unwrap());
        // Just over one: padding would nearly double it, so it stays as asked.
        let ragged = Layout::from_size_align(LARGE + 4096, 8).unwrap();
        assert_eq!(placed(ragged), ragged);
        let small = Layout::from_size_align(4096, 8).unwrap();
        assert_eq!(placed(small), small);
        // SAFETY: non-zero layouts; each block is written and read within
        // the size it has at the time and freed with that size.
        unsafe {
            let block = alloc.alloc(layout);
            assert!(!block.is_null());
            assert_eq!(block as usize % LARGE, 0, "a placed block starts on a huge page");
            *block = 7;
            *block.add(layout.size() - 1) = 9;
            // Growing into the padding keeps the block where it is.
            let grown = alloc.realloc(block, layout, 3 * LARGE);
            assert_eq!(grown, block);
            // Growing past it moves the contents to a new placed block.
            let grown_layout = Layout::from_size_align(3 * LARGE, 8).unwrap();
            let moved = alloc.realloc(grown, grown_layout, 4 * LARGE);
            assert!(!moved.is_null());
            assert_eq!(moved as usize % LARGE, 0);
            assert_eq!((*moved, *moved.add(layout.size() - 1)), (7, 9));
            // Shrinking to a small block keeps the start.
            let small_again = alloc.realloc(moved, Layout::from_size_align(4 * LARGE, 8).unwrap(), 100);
            assert_eq!(*small_again, 7);
            alloc.dealloc(small_again, Layout::from_size_align(100, 8).unwrap());
        }
    }

    fn zeroes(alloc: &impl GlobalAlloc) {
        let layout = Layout::from_size_align(LARGE * 2, 64).unwrap();
        // SAFETY: as above.
        unsafe {
            let block = alloc.alloc_zeroed(layout);
            assert!(!block.is_null());
            assert_eq!(block as usize % 64, 0);
            assert!((0..layout.size()).step_by(511).all(|i| *block.add(i) == 0));
            alloc.dealloc(block, layout);
        }
    }
}
