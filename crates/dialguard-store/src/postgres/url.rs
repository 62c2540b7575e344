//! Naming a PostgreSQL database in messages without giving its password
//! away.
//!
//! Errors and logs show where the log lives as the operator wrote it, so
//! the connection string is kept as given with only the password taken out
//! (from the user info of a URL, from a `password=` query parameter, or from
//! a `password=` pair of the `key=value` form), rather than rebuilt from the
//! parsed configuration, which would show defaults the operator never typed.

/// `url` with any password removed.
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url
            .split_whitespace()
            .filter(|pair| !pair.starts_with("password="))
            .collect::<Vec<_>>()
            .join(" ");
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, hosts)) => {
            let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
            format!("{user}@{hosts}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query.split('&').filter(|pair| !pair.starts_with("password=")).collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_are_taken_out_and_the_rest_kept() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            (
                "postgres://app:s3cr:et@db.example:5432/log",
                "postgres://app@db.example:5432/log",
            ),
            (
                "postgresql://app:pw@h1,h2/log?sslmode=disable",
                "postgresql://app@h1,h2/log?sslmode=disable",
            ),
            (
                "postgres://h/log?password=pw&application_name=x",
                "postgres://h/log?application_name=x",
            ),
            ("postgres://h/log?password=pw", "postgres://h/log"),
            ("postgres://app:pw@h", "postgres://app@h"),
            ("host=h user=app password=pw dbname=log", "host=h user=app dbname=log"),
        ];
        for (given, shown) in cases {
            assert_eq!(without_password(given), shown, "{given}");
        }
    }
}
