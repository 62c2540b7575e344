//! One module per subcommand.

pub mod guard;
pub mod import;
pub mod lifecycle;
pub mod numbers;
pub mod report;
pub mod risk;
pub mod serve;
pub mod sim;
