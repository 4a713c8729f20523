//! The markdown report: absolute numbers, then ratios, then the targets.

use crate::lambda::{LambdaStats, Runtime, percentile};
use crate::large::MIB;
use crate::scenarios::Scenario;
use crate::{Args, Suite};
use std::fmt::Write;
use std::time::Duration;

// Targets of issue 2, part 11, on a 2-core machine.
const TARGET_STARTUP_MS: f64 = 10.0;
const TARGET_IDLE_RSS_MIB: f64 = 10.0;
const TARGET_SEND_CPU_US: f64 = 30.0;
const TARGET_DURABLE_FACTOR: f64 = 3.0;
// The project's targets for large S3 objects, in memory mode.
const TARGET_LARGE_MB_PER_SEC: f64 = 500.0;
const TARGET_LARGE_PEAK_RSS_MIB: f64 = 64.0;
// Issue 5: a Python cold start (Invoke round trip after an update), median, memory mode.
const TARGET_PYTHON_COLD_START_MS: f64 = 150.0;

pub fn markdown(args: &Args, suites: &[Suite], ticks_per_sec: u64) -> String {
    let mut out = String::new();
    let moto = suites.iter().find(|s| s.label == "moto");
    let memory = suites.iter().find(|s| s.label == "kagami (memory)");
    let durable = suites.iter().find(|s| s.label == "kagami (durable)");

    let _ = writeln!(out, "### Startup and memory\n");
    let _ = writeln!(out, "| server | startup to first answer (median) | min | max | idle RSS | peak RSS under load |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for s in suites {
        let _ = writeln!(
            out,
            "| {} ({} runs) | {} | {} | {} | {} | {} |",
            s.label,
            s.startup.runs.len(),
            ms(median(&s.startup.runs)),
            ms(s.startup.runs.first().copied().unwrap_or_default()),
            ms(s.startup.runs.last().copied().unwrap_or_default()),
            mib(s.startup.idle_rss_kib),
            mib(s.peak_rss_kib),
        );
    }

    let _ = writeln!(
        out,
        "\n### Throughput and latency ({} connections, {} s per operation)\n",
        args.connections, args.duration
    );
    let _ = writeln!(out, "| operation | server | ops/s | requests/s | p50 | p90 | p99 | server CPU per op | errors |");
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut errors = Vec::new();
    for scenario in Scenario::ALL {
        for s in suites {
            let Some(stats) = stats(s, scenario) else { continue };
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | {} | {} | {} | {:.1} µs | {} |",
                scenario.label(),
                s.label,
                stats.ops_per_sec(),
                stats.requests_per_sec(),
                us(stats.percentile_us(50.0)),
                us(stats.percentile_us(90.0)),
                us(stats.percentile_us(99.0)),
                stats.cpu_us_per_op(ticks_per_sec),
                stats.errors,
            );
            if let Some(e) = &stats.first_error {
                errors.push(format!("- {} on {}: {} errors, first: `{e}`", scenario.label(), s.label, stats.errors));
            }
        }
    }
    if !errors.is_empty() {
        let _ = writeln!(out, "\nErrors:\n{}", errors.join("\n"));
    }
    if suites.iter().any(|s| stats(s, Scenario::Query).is_some()) {
        let mut sizes = format!("kagami: {} items", args.query_table_items);
        if moto.is_some() {
            sizes.push_str(&format!(", moto: {} items", args.moto_query_table_items));
        }
        let _ = writeln!(
            out,
            "\nQuery reads the whole partition `hot` ({} items, one page) of a table of many partitions ({sizes}).",
            crate::dynamodb::HOT_ITEMS
        );
    }

    large_table(&mut out, suites, ticks_per_sec);
    listing_table(&mut out, suites, ticks_per_sec);
    lambda_table(&mut out, suites, ticks_per_sec);

    if let (Some(memory), Some(moto)) = (memory, moto) {
        // Every ratio reads "how many times better kagami is": above 1 is kagami's lead.
        let _ = writeln!(out, "\n### kagami compared with moto (times better; above 1 favours kagami)\n");
        let _ = writeln!(out, "| measurement | kagami (memory) | kagami (durable) |");
        let _ = writeln!(out, "| --- | ---: | ---: |");
        let mut row = |name: String, better: &dyn Fn(&Suite) -> String| {
            let _ = writeln!(out, "| {name} | {} | {} |", better(memory), durable.map_or("-".into(), better));
        };
        let startup = |s: &Suite| median(&s.startup.runs).as_secs_f64();
        row("startup time (moto ÷ kagami)".into(), &|s| ratio(startup(moto), startup(s)));
        let rss = |s: &Suite| s.startup.idle_rss_kib as f64;
        row("idle RSS (moto ÷ kagami)".into(), &|s| ratio(rss(moto), rss(s)));
        for scenario in Scenario::ALL.into_iter().filter(|&sc| stats(memory, sc).is_some()) {
            let tput = |s: &Suite| stats(s, scenario).map_or(0.0, |x| x.ops_per_sec());
            let cpu = |s: &Suite| stats(s, scenario).map_or(0.0, |x| x.cpu_us_per_op(ticks_per_sec));
            row(format!("{} throughput (kagami ÷ moto)", scenario.label()), &|s| ratio(tput(s), tput(moto)));
            row(format!("{} server CPU per op (moto ÷ kagami)", scenario.label()), &|s| ratio(cpu(moto), cpu(s)));
        }
        if let Some(moto_large) = &moto.large {
            let sizes = format!("{} MiB vs moto's {} MiB", memory.large.as_ref().map_or(0, |l| l.bytes / MIB), moto_large.bytes / MIB);
            let put = |s: &Suite| s.large.as_ref().map_or(0.0, |l| l.put_mb_per_sec());
            let get = |s: &Suite| s.large.as_ref().map_or(0.0, |l| l.get_mb_per_sec());
            row(format!("large-object PutObject MB/s (kagami ÷ moto; {sizes})"), &|s| ratio(put(s), put(moto)));
            row(format!("large-object GetObject MB/s (kagami ÷ moto; {sizes})"), &|s| ratio(get(s), get(moto)));
        }
    }

    if let Some(memory) = memory {
        let _ = writeln!(out, "\n### Targets (issue 2, part 11)\n");
        let _ = writeln!(out, "| target | measured | met |");
        let _ = writeln!(out, "| --- | ---: | :---: |");
        let startup_ms = median(&memory.startup.runs).as_secs_f64() * 1e3;
        target(&mut out, &format!("startup ≤ {TARGET_STARTUP_MS} ms"), &format!("{startup_ms:.1} ms"), startup_ms <= TARGET_STARTUP_MS);
        let rss_mib = memory.startup.idle_rss_kib as f64 / 1024.0;
        target(&mut out, &format!("idle RSS ≤ {TARGET_IDLE_RSS_MIB} MiB"), &format!("{rss_mib:.1} MiB"), rss_mib <= TARGET_IDLE_RSS_MIB);
        if let Some(send) = stats(memory, Scenario::SendMessage) {
            let cpu = send.cpu_us_per_op(ticks_per_sec);
            target(&mut out, &format!("server CPU ≤ {TARGET_SEND_CPU_US} µs per SendMessage (memory)"), &format!("{cpu:.1} µs"), cpu <= TARGET_SEND_CPU_US);
            if let Some(dsend) = durable.and_then(|d| stats(d, Scenario::SendMessage)) {
                let slowdown = send.ops_per_sec() / dsend.ops_per_sec().max(1e-9);
                target(
                    &mut out,
                    &format!("durable SendMessage throughput within {TARGET_DURABLE_FACTOR}× of memory"),
                    &format!("{slowdown:.2}× slower"),
                    slowdown <= TARGET_DURABLE_FACTOR,
                );
                let cpu_factor = dsend.cpu_us_per_op(ticks_per_sec) / cpu.max(1e-9);
                target(
                    &mut out,
                    &format!("durable SendMessage CPU per op within {TARGET_DURABLE_FACTOR}× of memory"),
                    &format!("{cpu_factor:.2}×"),
                    cpu_factor <= TARGET_DURABLE_FACTOR,
                );
            }
        }
    }
    if let Some(python) = memory.and_then(|m| m.lambda.iter().find(|l| l.runtime == Runtime::Python)) {
        let _ = writeln!(out, "\n### Lambda targets (issue 5, memory mode)\n");
        let _ = writeln!(out, "| target | measured | met |");
        let _ = writeln!(out, "| --- | ---: | :---: |");
        let cold = percentile(&python.cold, 50.0).as_secs_f64() * 1e3;
        target(
            &mut out,
            &format!("python3.12 cold start (median) ≤ {TARGET_PYTHON_COLD_START_MS} ms"),
            &format!("{cold:.1} ms"),
            cold <= TARGET_PYTHON_COLD_START_MS,
        );
    }
    if let Some(large) = memory.and_then(|m| m.large.as_ref()) {
        let size = large.bytes / MIB;
        let _ = writeln!(out, "\n### S3 large-object targets (memory mode)\n");
        let _ = writeln!(out, "| target | measured | met |");
        let _ = writeln!(out, "| --- | ---: | :---: |");
        for (operation, rate) in [("PutObject", large.put_mb_per_sec()), ("GetObject", large.get_mb_per_sec())] {
            target(
                &mut out,
                &format!("{operation} of {size} MiB ≥ {TARGET_LARGE_MB_PER_SEC} MB/s"),
                &format!("{rate:.0} MB/s"),
                rate >= TARGET_LARGE_MB_PER_SEC,
            );
        }
        let peak_mib = large.peak_rss_kib as f64 / 1024.0;
        target(
            &mut out,
            &format!("peak RSS ≤ {TARGET_LARGE_PEAK_RSS_MIB} MiB over that PUT and GET"),
            &format!("{peak_mib:.1} MiB"),
            peak_mib <= TARGET_LARGE_PEAK_RSS_MIB,
        );
    }
    out
}

/// One PUT and one GET of a large object per server, sizes in the heading.
fn large_table(out: &mut String, suites: &[Suite], ticks_per_sec: u64) {
    let measured: Vec<(&Suite, &crate::large::LargeStats)> =
        suites.iter().filter_map(|s| s.large.as_ref().map(|l| (s, l))).collect();
    if measured.is_empty() {
        return;
    }
    let sizes: Vec<String> = measured.iter().map(|(s, l)| format!("{}: {} MiB", s.label, l.bytes / MIB)).collect();
    let _ = writeln!(
        out,
        "\n### S3 large-object throughput (one object PUT, then GET back; {})\n",
        sizes.join(", ")
    );
    let _ = writeln!(
        out,
        "| server | object | PutObject | GetObject | server CPU per GiB, PUT | server CPU per GiB, GET | peak RSS (VmHWM) |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (s, l) in measured {
        let _ = writeln!(
            out,
            "| {} | {} MiB | {:.0} MB/s | {:.0} MB/s | {:.2} s | {:.2} s | {} |",
            s.label,
            l.bytes / MIB,
            l.put_mb_per_sec(),
            l.get_mb_per_sec(),
            l.cpu_secs_per_gib(l.put_cpu_ticks, ticks_per_sec),
            l.cpu_secs_per_gib(l.get_cpu_ticks, ticks_per_sec),
            mib(l.peak_rss_kib),
        );
    }
    let _ = writeln!(
        out,
        "\nMB/s is 10⁶ bytes per second, from the first byte sent to the last byte of the answer; \
         peak RSS is that of a server started for this measurement alone."
    );
}

/// ListObjectsV2 through a whole bucket, 1,000 keys a page, per server.
fn listing_table(out: &mut String, suites: &[Suite], ticks_per_sec: u64) {
    let measured: Vec<(&Suite, &crate::listing::ListingStats)> =
        suites.iter().filter_map(|s| s.listing.as_ref().map(|l| (s, l))).collect();
    if measured.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n### S3 ListObjectsV2 through a whole bucket (1,000 keys per page)\n");
    let _ = writeln!(out, "| server | keys | pages | time | keys/s | server CPU per page |");
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |");
    for (s, l) in measured {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.0} | {:.0} µs |",
            s.label,
            l.keys,
            l.pages,
            ms(l.took),
            l.keys_per_sec(),
            l.cpu_us_per_page(ticks_per_sec),
        );
    }
}

/// Cold starts and sequential warm invokes of the no-op functions, per runtime.
fn lambda_table(out: &mut String, suites: &[Suite], ticks_per_sec: u64) {
    let measured: Vec<(&Suite, &LambdaStats)> = suites.iter().flat_map(|s| s.lambda.iter().map(move |l| (s, l))).collect();
    let Some((_, first)) = measured.first() else { return };
    let _ = writeln!(
        out,
        "\n### Lambda: no-op handlers, one client ({} cold starts, {} warm invokes per runtime)\n",
        first.cold.len(),
        first.warm.len()
    );
    let _ = writeln!(
        out,
        "| runtime | server | cold start p50 | cold start p99 | warm p50 | warm p99 | overhead p50 | overhead p99 | server CPU per cold start |"
    );
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (s, l) in measured {
        let p = |v: &[Duration], q: f64| us(percentile(v, q).as_micros().min(u128::from(u32::MAX)) as u32);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.1} ms |",
            l.runtime.id(),
            s.label,
            p(&l.cold, 50.0),
            p(&l.cold, 99.0),
            p(&l.warm, 50.0),
            p(&l.warm, 99.0),
            p(&l.overhead, 50.0),
            p(&l.overhead, 99.0),
            l.cpu_ms_per_cold_start(ticks_per_sec),
        );
    }
    let _ = writeln!(
        out,
        "\nA cold start is the Invoke round trip right after an UpdateFunctionConfiguration (not timed) \
         that retires the function's environments; overhead is a warm round trip minus the handler's own \
         run time (which it returns). Warm invokes per second with concurrent clients (one \
         environment each) are the Invoke rows of the throughput table; their server CPU excludes the \
         runtime processes."
    );
}

fn stats(suite: &Suite, scenario: Scenario) -> Option<&crate::load::LoadStats> {
    suite.results.iter().find(|(s, _)| *s == scenario).map(|(_, st)| st)
}

fn target(out: &mut String, name: &str, measured: &str, met: bool) {
    let _ = writeln!(out, "| {name} | {measured} | {} |", if met { "yes" } else { "**no**" });
}

fn median(sorted: &[Duration]) -> Duration {
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(v: u32) -> String {
    if v >= 10_000 { format!("{:.1} ms", f64::from(v) / 1e3) } else { format!("{v} µs") }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// "12.3×" for a ÷ b, "-" when either is zero (a server without that scenario).
fn ratio(a: f64, b: f64) -> String {
    if a <= 0.0 || b <= 0.0 {
        return "-".into();
    }
    let r = a / b;
    if r >= 10.0 { format!("{r:.0}×") } else if r >= 0.1 { format!("{r:.2}×") } else { format!("{r:.3}×") }
}
