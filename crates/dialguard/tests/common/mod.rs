//! What the tests that need PostgreSQL share: the server, and a schema of
//! a test's own.

pub fn server_url() -> String {
    std::env::var("DIALGUARD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema, dropped when the test ends.
pub struct Schema {
    name: String,
}

impl Schema {
    pub fn new(tag: &str) -> Schema {
        let name = format!("dialguard_{tag}_{}", std::process::id());
        let mut client = postgres::Client::connect(&server_url(), postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "these tests need PostgreSQL at {} ({e}); start one there, or set DIALGUARD_TEST_PG",
                server_url()
            )
        });
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"))
            .unwrap();
        Schema { name }
    }

    /// The URL that puts the log in this schema.
    pub fn url(&self) -> String {
        let base = server_url();
        let joiner = if base.contains('?') { '&' } else { '?' };
        format!("{base}{joiner}options=-csearch_path%3D{}", self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&server_url(), postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}
