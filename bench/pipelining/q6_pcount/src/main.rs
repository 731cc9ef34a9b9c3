// Count self-profile events by (event_kind, label): how many times each query's provider ran,
// how many results were loaded from the incremental cache, how many were hashed.
use analyzeme::ProfilingData;
use std::collections::BTreeMap;
fn main() {
    let path = std::env::args().nth(1).expect("path without .mm_profdata");
    let data = ProfilingData::new(std::path::Path::new(&path)).expect("load");
    let mut m: BTreeMap<(String, String), (u64, u128)> = BTreeMap::new();
    for ev in data.iter_full() {
        let d = ev.duration().map(|d| d.as_nanos()).unwrap_or(0);
        let e = m.entry((ev.event_kind.to_string(), ev.label.to_string())).or_insert((0, 0));
        e.0 += 1; e.1 += d;
    }
    for ((k, l), (n, ns)) in m { println!("{}\t{}\t{}\t{}", k, l, n, ns / 1000); }
}
