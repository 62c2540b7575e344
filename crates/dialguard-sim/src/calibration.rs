//! The public figures the callee population is calibrated to, each with its
//! source. Where nothing public exists the value is this simulator's own
//! assumption and says so (`[sim]`); every one of them is a field of
//! [`crate::population::PopulationConfig`] or [`crate::callee::CalleeModel`]
//! and can be changed.
//!
//! Sources:
//! - `[hiya-2019]` Hiya, *State of the Phone Call* (January 2019), as reported
//!   by TrueAccord (<https://blog.trueaccord.com/2019/02/more-disturbing-phone-call-trends-in-this-report-from-hiya/>)
//!   and BizReport (<http://www.bizreport.com/2019/02/study-most-mobile-calls-arent-answered.html>):
//!   70 % of calls from numbers saved in contacts are picked up, 38 % of calls
//!   from numbers not saved to contacts, 24 % of unidentified calls, 9 % of
//!   calls identified as spam; spam calls last about 11 s; calls from
//!   unidentified numbers last 35 s on average.
//! - `[hiya-2019-mid]` Hiya's mid-2019 update, as reported by BizReport
//!   (<http://www.bizreport.com/2019/07/study-fewer-than-half-of-mobile-calls-answered.html>):
//!   identified calls from businesses last almost 3 minutes on average, calls
//!   from contacts about 5 minutes.
//! - `[unlimcall-hygiene]` UnlimCall, *Contact List Hygiene*
//!   (<https://unlimcall.com/blog/contact-list-hygiene-outbound-performance/>):
//!   North American wireless churn runs about 2–3 % a month; at 2.5 % a
//!   six-month-old list has lost about 14 %, a year-old one 26 %; worked lists
//!   hold 15–25 % disconnected or reassigned records.
//! - `[statista-share]` Statista, wireless subscriptions market share by
//!   carrier, Q2 2024 (<https://www.statista.com/statistics/199359/market-share-of-wireless-carriers-in-the-us-by-subscriptions/>):
//!   Verizon a little over 37 %, T-Mobile and AT&T the rest.
//! - `[census-2020]` U.S. Census Bureau, 2020 Census resident population by
//!   state (apportionment results, table 2).

/// `[hiya-2019]` Pick-up of a call from a number not in the callee's contacts.
pub const PICKUP_NOT_IN_CONTACTS: f64 = 0.38;
/// `[hiya-2019]` Pick-up of an unidentified call.
pub const PICKUP_UNIDENTIFIED: f64 = 0.24;
/// `[hiya-2019]` Pick-up of a call the handset labeled as spam.
pub const PICKUP_LABELED: f64 = 0.09;
/// `[hiya-2019]` Pick-up of a call from a number saved in contacts.
pub const PICKUP_KNOWN: f64 = 0.70;
/// `[hiya-2019]` Mean talk time of a spam call, in seconds.
pub const SPAM_TALK_SECS: f64 = 11.0;
/// `[hiya-2019]` Mean talk time of an answered unidentified call, in seconds.
pub const UNIDENTIFIED_TALK_SECS: f64 = 35.0;
/// `[hiya-2019-mid]` Mean talk time of an identified business call, in seconds.
pub const BUSINESS_TALK_SECS: f64 = 180.0;
/// `[hiya-2019-mid]` Mean talk time of a call from a contact, in seconds.
pub const CONTACT_TALK_SECS: f64 = 300.0;

/// The share of answered unknown-caller calls that become a conversation,
/// solved from the two Hiya means: `35 = q·180 + (1 − q)·11`, so
/// `q = (35 − 11) / (180 − 11)` ≈ 14 %.
pub const ENGAGED_SHARE_UNKNOWN: f64 =
    (UNIDENTIFIED_TALK_SECS - SPAM_TALK_SECS) / (BUSINESS_TALK_SECS - SPAM_TALK_SECS);

/// `[unlimcall-hygiene]` Monthly churn of a list's numbers (2–3 %).
pub const MONTHLY_CHURN: f64 = 0.025;

/// The share of a list's numbers dead after `months` of churn.
pub fn dead_share(months: f64) -> f64 {
    1.0 - (1.0 - MONTHLY_CHURN).powf(months.max(0.0))
}

/// `[statista-share]` Subscription shares of the three carriers (Verizon a
/// little over 37 %; `[sim]` the rest split 33 % T-Mobile, 30 % AT&T).
pub const CARRIER_SHARES: [(dialguard_core::Carrier, f64); 3] = [
    (dialguard_core::Carrier::Verizon, 0.37),
    (dialguard_core::Carrier::Tmobile, 0.33),
    (dialguard_core::Carrier::Att, 0.30),
];

/// `[census-2020]` Resident population by state (and DC), the weight with
/// which a callee lives there.
pub const STATE_POPULATION: [(&str, u32); 51] = [
    ("CA", 39_538_223),
    ("TX", 29_145_505),
    ("FL", 21_538_187),
    ("NY", 20_201_249),
    ("PA", 13_002_700),
    ("IL", 12_812_508),
    ("OH", 11_799_448),
    ("GA", 10_711_908),
    ("NC", 10_439_388),
    ("MI", 10_077_331),
    ("NJ", 9_288_994),
    ("VA", 8_631_393),
    ("WA", 7_705_281),
    ("AZ", 7_151_502),
    ("MA", 7_029_917),
    ("TN", 6_910_840),
    ("IN", 6_785_528),
    ("MD", 6_177_224),
    ("MO", 6_154_913),
    ("WI", 5_893_718),
    ("CO", 5_773_714),
    ("MN", 5_706_494),
    ("SC", 5_118_425),
    ("AL", 5_024_279),
    ("LA", 4_657_757),
    ("KY", 4_505_836),
    ("OR", 4_237_256),
    ("OK", 3_959_353),
    ("CT", 3_605_944),
    ("UT", 3_271_616),
    ("IA", 3_190_369),
    ("NV", 3_104_614),
    ("AR", 3_011_524),
    ("MS", 2_961_279),
    ("KS", 2_937_880),
    ("NM", 2_117_522),
    ("NE", 1_961_504),
    ("ID", 1_839_106),
    ("WV", 1_793_716),
    ("HI", 1_455_271),
    ("NH", 1_377_529),
    ("ME", 1_362_359),
    ("RI", 1_097_379),
    ("MT", 1_084_225),
    ("DE", 989_948),
    ("SD", 886_667),
    ("ND", 779_094),
    ("AK", 733_391),
    ("DC", 689_545),
    ("VT", 643_077),
    ("WY", 576_851),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_figures_match_their_sources() {
        assert!((ENGAGED_SHARE_UNKNOWN - 0.142).abs() < 0.001);
        // [unlimcall-hygiene]: about 14 % after six months, 26 % after twelve.
        assert!((dead_share(6.0) - 0.14).abs() < 0.005);
        assert!((dead_share(12.0) - 0.26).abs() < 0.005);
        let shares: f64 = CARRIER_SHARES.iter().map(|(_, s)| s).sum();
        assert!((shares - 1.0).abs() < 1e-9);
        let people: u64 = STATE_POPULATION.iter().map(|(_, p)| u64::from(*p)).sum();
        // The 2020 census counted 331,449,281 residents of the states and DC.
        assert_eq!(people, 331_449_281);
    }
}
