//! The forecasting algorithms against statsforecast 2.1.1 (tests/fixtures/forecast: fixtures
//! and the script that made them): with statsforecast's fitted parameters and initial states,
//! ETS reproduces its fitted values, likelihood, forecasts and intervals to 1e-6; Croston, SBA,
//! TSB, naive and seasonal naive are equal to 1e-9; the initial values of every optimisation
//! are statsforecast's; and automatic ETS is as accurate on the hold-outs.

use cohort::forecast::{ets, simple, theta};
use serde_json::Value;

fn fixtures() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/forecast/forecast_fixtures.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// |a − b| ≤ tol · max(1, |b|).
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn assert_all_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(close(*a, *b, tol), "{what}[{i}]: {a} vs {b}");
    }
}

struct Series<'a> {
    id: String,
    m: usize,
    h: usize,
    train: Vec<f64>,
    test: Vec<f64>,
    models: &'a Value,
    kind: String,
}

fn series(fx: &Value) -> Vec<Series<'_>> {
    fx["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let values = floats(&s["values"]);
            let n_train = s["n_train"].as_u64().unwrap() as usize;
            Series {
                id: s["id"].as_str().unwrap().to_string(),
                m: s["m"].as_u64().unwrap() as usize,
                h: s["h"].as_u64().unwrap() as usize,
                train: values[..n_train].to_vec(),
                test: values[n_train..].to_vec(),
                models: &s["models"],
                kind: s["kind"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

#[test]
fn naive_and_seasonal_naive_match_statsforecast() {
    let fx = fixtures();
    let z = |level: f64| cohort::forecast::normal_quantile(0.5 + level / 200.0);
    for s in series(&fx) {
        let nv = &s.models["naive"];
        let (last, sigma) = simple::naive(&s.train);
        assert!(close(sigma, f(&nv["sigma"]), 1e-9), "{}: naive sigma", s.id);
        for k in 0..s.h {
            assert!(close(last, f(&nv["mean"][k]), 1e-12), "{}", s.id);
            for level in [80.0, 95.0] {
                let iv = &nv["intervals"][format!("{level}")];
                let half = z(level) * sigma * ((k + 1) as f64).sqrt();
                assert!(
                    close(last - half, f(&iv["lo"][k]), 1e-9),
                    "{} naive lo",
                    s.id
                );
                assert!(
                    close(last + half, f(&iv["hi"][k]), 1e-9),
                    "{} naive hi",
                    s.id
                );
            }
        }
        if s.m > 1 {
            let sn = &s.models["seasonal_naive"];
            let (lastm, sigma) = simple::seasonal_naive(&s.train, s.m);
            assert!(
                close(sigma, f(&sn["sigma"]), 1e-9),
                "{}: snaive sigma",
                s.id
            );
            let model = cohort::forecast::SeriesModel::SeasonalNaive { last: lastm, sigma };
            for level in [80.0, 95.0] {
                let (mean, iv) = model.forecast(s.h, level / 100.0);
                let (lo, hi) = iv.unwrap();
                assert_all_close(
                    &format!("{} snaive", s.id),
                    &mean,
                    &floats(&sn["mean"]),
                    1e-12,
                );
                let want = &sn["intervals"][format!("{level}")];
                assert_all_close(
                    &format!("{} snaive lo", s.id),
                    &lo,
                    &floats(&want["lo"]),
                    1e-9,
                );
                assert_all_close(
                    &format!("{} snaive hi", s.id),
                    &hi,
                    &floats(&want["hi"]),
                    1e-9,
                );
            }
        }
    }
}

#[test]
fn croston_sba_and_tsb_match_statsforecast() {
    let fx = fixtures();
    for s in series(&fx) {
        let c = simple::croston(&s.train, false);
        let sba = simple::croston(&s.train, true);
        for k in 0..s.h {
            assert!(
                close(c, f(&s.models["croston_classic"]["mean"][k]), 1e-9),
                "{}: croston {c}",
                s.id
            );
            assert!(
                close(sba, f(&s.models["croston_sba"]["mean"][k]), 1e-9),
                "{}: sba",
                s.id
            );
        }
        for t in s.models["tsb"].as_array().unwrap() {
            let v = simple::tsb(&s.train, f(&t["alpha_d"]), f(&t["alpha_p"]));
            assert!(
                close(v, f(&t["mean"][0]), 1e-9),
                "{}: tsb {v} vs {}",
                s.id,
                t["mean"][0]
            );
        }
    }
}

fn params_of(r: &Value) -> ets::Params {
    let or = |v: &Value, d: f64| v.as_f64().unwrap_or(d);
    ets::Params {
        alpha: or(&r["alpha"], 0.0),
        beta: or(&r["beta"], 0.0),
        gamma: or(&r["gamma"], 0.0),
        phi: or(&r["phi"], 1.0),
    }
}

fn spec_of(r: &Value) -> ets::Spec {
    let c: Vec<char> = r["components"].as_str().unwrap().chars().collect();
    let name = format!(
        "{}{}{}{}",
        c[0],
        c[1],
        if c[3] == 'D' { "d" } else { "" },
        c[2]
    );
    ets::Spec::parse(&name).unwrap()
}

/// Checks a fit from statsforecast's parameters against its record.
fn check_fixed(id: &str, train: &[f64], m: usize, r: &Value) {
    let spec = spec_of(r);
    let fit = ets::fit_fixed(train, spec, m, params_of(r), &floats(&r["init_states"])).unwrap();
    let what = format!("{id} {}", spec.name());
    assert_all_close(
        &format!("{what} last_state"),
        &fit.last_state,
        &floats(&r["last_state"]),
        1e-6,
    );
    assert_all_close(
        &format!("{what} fitted"),
        &fit.fitted,
        &floats(&r["fitted"]),
        1e-6,
    );
    assert!(
        close(fit.lik, f(&r["lik"]), 1e-8),
        "{what}: lik {} vs {}",
        fit.lik,
        r["lik"]
    );
    assert!(close(fit.aicc, f(&r["aicc"]), 1e-8), "{what}: aicc");
    assert!(close(fit.sigma2, f(&r["sigma2"]), 1e-8), "{what}: sigma2");
    assert_eq!(
        fit.n_params as u64,
        r["n_params"].as_u64().unwrap(),
        "{what}: n_params"
    );
    let h = r["mean"].as_array().unwrap().len();
    for level in [80.0, 95.0] {
        let (mean, lo, hi) = ets::forecast(&fit, h, level / 100.0);
        assert_all_close(&format!("{what} mean"), &mean, &floats(&r["mean"]), 1e-6);
        let iv = &r["intervals"][format!("{level}")];
        assert_all_close(&format!("{what} lo{level}"), &lo, &floats(&iv["lo"]), 1e-6);
        assert_all_close(&format!("{what} hi{level}"), &hi, &floats(&iv["hi"]), 1e-6);
    }
}

#[test]
fn ets_with_statsforecast_parameters_matches_to_1e6() {
    let fx = fixtures();
    let mut checked = 0;
    for s in series(&fx) {
        for (_, r) in s.models["ets"].as_object().unwrap() {
            if r["components"].is_null() {
                continue;
            }
            check_fixed(&s.id, &s.train, s.m, r);
            checked += 1;
        }
        if !s.models["auto_ets"]["components"].is_null() {
            check_fixed(&s.id, &s.train, s.m, &s.models["auto_ets"]);
        }
    }
    assert!(checked >= 100, "{checked} fits checked");
}

#[test]
fn ets_starting_values_are_statsforecasts() {
    let fx = fixtures();
    for s in series(&fx) {
        if s.train.iter().all(|v| *v == s.train[0]) {
            // a constant series is ANN with α fixed at 0.9999, as statsforecast fits it
            let fit = ets::auto(&s.train, s.m, &[]).unwrap();
            let r = &s.models["auto_ets"];
            assert_eq!(fit.spec.name(), "ANN", "{}", s.id);
            assert_eq!(fit.params.alpha, 0.9999);
            assert_eq!(fit.n_params as u64, r["n_params"].as_u64().unwrap());
            let (mean, _, _) = ets::forecast(&fit, s.h, 0.95);
            assert_all_close(
                &format!("{} constant", s.id),
                &mean,
                &floats(&r["mean"]),
                1e-9,
            );
            continue;
        }
        for (name, r) in s.models["ets"].as_object().unwrap() {
            if r["components"].is_null() {
                continue;
            }
            let spec = spec_of(r);
            let mut bounds = ets::Bounds::default();
            let (fit, trace) = ets::fit_spec(&s.train, spec, s.m, &mut bounds, None).unwrap();
            let x0 = floats(&r["optimizer"]["x0"]);
            assert_all_close(&format!("{} {name} x0", s.id), &trace.x0, &x0, 1e-9);
            // our optimum is at least as good as statsforecast's, or close
            let theirs = f(&r["optimizer"]["fn"]);
            assert!(
                trace.objective <= theirs + 1e-6 * theirs.abs().max(1.0)
                    || close(trace.objective, theirs, 0.02),
                "{} {name}: objective {} vs statsforecast {}",
                s.id,
                trace.objective,
                theirs
            );
            assert_eq!(fit.spec, spec);
        }
    }
}

/// MASE of forecasts against a hold-out, scaled by the training part's in-sample (seasonal)
/// naive error.
fn mase(train: &[f64], test: &[f64], pred: &[f64], m: usize) -> Option<f64> {
    let lag = m.max(1);
    let scale: f64 = (lag..train.len())
        .map(|t| (train[t] - train[t - lag]).abs())
        .sum::<f64>()
        / (train.len() - lag) as f64;
    (scale > 0.0).then(|| {
        test.iter()
            .zip(pred)
            .map(|(a, p)| (a - p).abs())
            .sum::<f64>()
            / test.len() as f64
            / scale
    })
}

#[test]
fn auto_ets_is_as_accurate_as_statsforecast() {
    let fx = fixtures();
    let (mut ours, mut theirs, mut count) = (0.0, 0.0, 0);
    for s in series(&fx) {
        if s.kind == "intermittent" {
            continue;
        }
        let fit = ets::auto(&s.train, s.m, &[]).unwrap();
        let (mean, _, _) = ets::forecast(&fit, s.h, 0.95);
        let ours_s = mase(&s.train, &s.test, &mean, s.m).unwrap();
        let theirs_s = f(&s.models["auto_ets"]["mase"]);
        println!(
            "{:16} cohort {:8} MASE {ours_s:.4}   statsforecast {:8} MASE {theirs_s:.4}",
            s.id,
            fit.spec.name(),
            s.models["auto_ets"]["method"].as_str().unwrap_or(""),
        );
        ours += ours_s;
        theirs += theirs_s;
        count += 1;
    }
    let (ours, theirs) = (ours / count as f64, theirs / count as f64);
    println!("mean MASE over {count} series: cohort {ours:.6}, statsforecast {theirs:.6}");
    assert!((theirs - f(&fx["summary"]["auto_ets_mean_mase"])).abs() < 1e-12);
    assert!(
        ours <= theirs * 1.02,
        "mean MASE {ours} vs statsforecast {theirs}"
    );
}

#[test]
fn theta_with_statsforecast_parameters_matches() {
    let fx = fixtures();
    for s in series(&fx) {
        let r = &s.models["theta"];
        if r.is_null() || r["mean"].is_null() {
            continue;
        }
        let t = theta::fit_fixed(&s.train, s.m, f(&r["initial_smoothed"]), f(&r["alpha"])).unwrap();
        assert!(
            close(t.a, f(&r["A"]), 1e-9) && close(t.b, f(&r["B"]), 1e-9),
            "{}: A, B",
            s.id
        );
        assert_eq!(
            t.season.is_empty(),
            !r["decompose"].as_bool().unwrap_or(false),
            "{}: decomposition",
            s.id
        );
        let (mean, _, _) = t.forecast(s.h, 0.95);
        assert_all_close(&format!("{} theta", s.id), &mean, &floats(&r["mean"]), 1e-6);
        // the fitted model's accuracy is statsforecast's (its optimum may differ slightly)
        let fitted = theta::fit(&s.train, s.m).unwrap();
        let (ours, _, _) = fitted.forecast(s.h, 0.95);
        if let (Some(a), Some(b)) = (mase(&s.train, &s.test, &ours, s.m), r["mase"].as_f64()) {
            assert!(a <= b * 1.05 + 1e-9, "{}: theta MASE {a} vs {b}", s.id);
        }
    }
}
