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
//! touched. Smaller ones, and every platform but Linux, go to the system
//! allocator unchanged.
//!
//! The binaries install it (`#[global_allocator]`); `examples/decide_bench.rs`
//! and `examples/dnc_bench.rs` measure with it, as the product runs.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// Allocations of this size or more are offered huge pages: one huge page.
pub const LARGE: usize = 2 << 20;

/// The system allocator, with large allocations marked for huge pages.
pub struct HugePages;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the marking on or off for allocations made from now on (the
/// benchmarks measure both ways in one run; a host short of memory may want
/// 4 KB pages, which never round a table's tail up to 2 MB).
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the same arguments, and
// its result returned unchanged; the only addition is advice about pages
// inside the block just returned (see `advise`).
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as received; the caller upholds `alloc`'s contract.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `block` came from `System` through this allocator.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `block` came from `System` through this allocator; the
        // caller upholds `realloc`'s contract.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if new_size > layout.size() {
            advise(moved, new_size);
        }
        moved
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
    // SAFETY: the range lies inside the block the system allocator has just
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

    #[test]
    fn large_and_small_blocks_keep_their_contents_through_growth() {
        for size in [64, LARGE - 1, LARGE, 3 * LARGE + 17] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: a non-zero layout; the block is written and read only
            // within its size and freed with the layout it has at the time.
            unsafe {
                let block = HugePages.alloc(layout);
                assert!(!block.is_null());
                for i in (0..size).step_by(4093) {
                    *block.add(i) = (i % 251) as u8;
                }
                let grown = HugePages.realloc(block, layout, size * 2);
                assert!(!grown.is_null());
                for i in (0..size).step_by(4093) {
                    assert_eq!(*grown.add(i), (i % 251) as u8, "byte {i} of a {size}-byte block");
                }
                HugePages.dealloc(grown, Layout::from_size_align(size * 2, 8).unwrap());
            }
        }
    }

    #[test]
    fn zeroed_blocks_are_zero() {
        let layout = Layout::from_size_align(LARGE * 2, 64).unwrap();
        // SAFETY: as above.
        unsafe {
            let block = HugePages.alloc_zeroed(layout);
            assert!(!block.is_null());
            assert_eq!(block as usize % 64, 0);
            assert!((0..layout.size()).step_by(511).all(|i| *block.add(i) == 0));
            HugePages.dealloc(block, layout);
        }
    }
}
