//! The CPU path's quantised formats: block layouts (`blocks`), their scalar reference arithmetic
//! (`reference`) and the load-time repacking for the GEMM tiles (`repack`), all re-exported here.

mod blocks;
mod reference;
mod repack;

pub use blocks::*;
pub use reference::*;
pub use repack::*;
