//! XfccLayer around a trivial handler: no layer, a valid header (uncached
//! and cached policy), and a rejected header.
#![expect(clippy::unwrap_used)]

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::Full;
use tower::{Service, ServiceBuilder, ServiceExt, service_fn};
use xfcc_benches::{aca_header, allowlist_policy, capture};
use xfcc_tower::XfccLayer;

async fn handler(_req: Request<()>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

fn request(header: Option<&str>) -> Request<()> {
    let mut r = Request::get("/");
    if let Some(h) = header {
        r = r.header("x-forwarded-client-cert", h);
    }
    r.body(()).unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let valid = aca_header();
    let rejected = capture("wrong-cn");
    let mut g = c.benchmark_group("layer");

    let mut bare = service_fn(handler);
    g.bench_function("no-layer", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    bare.ready()
                        .await
                        .unwrap()
                        .call(request(Some(&valid)))
                        .await
                        .unwrap(),
                )
            })
        });
    });
    for (id, cache, header, status) in [
        ("valid-uncached", 0, &valid, 200),
        ("valid-cached", 1024, &valid, 200),
        ("rejected", 0, &rejected, 403),
    ] {
        let mut svc = ServiceBuilder::new()
            .layer(XfccLayer::new(allowlist_policy(cache)))
            .service_fn(handler);
        g.bench_function(id, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let res = svc
                        .ready()
                        .await
                        .unwrap()
                        .call(request(Some(header)))
                        .await
                        .unwrap();
                    assert_eq!(res.status(), status);
                    black_box(res)
                })
            });
        });
    }
    g.finish();
}

/// The actix-web middleware around a trivial handler, beside the same app
/// with a stand-in that inserts a certificate verified once (what the wrk
/// baseline does), so the difference is the middleware.
fn actix(c: &mut Criterion) {
    use actix_web::dev::Service as _;
    use actix_web::{App, HttpMessage, HttpResponse, test, web};

    let rt = actix_web::rt::System::new();
    let valid = aca_header();
    let cert = allowlist_policy(0).verify(&valid).unwrap();
    let mut g = c.benchmark_group("actix");
    let req = |h: &str| {
        test::TestRequest::get()
            .uri("/")
            .insert_header(("x-forwarded-client-cert", h))
            .to_request()
    };
    let ok = || async { HttpResponse::Ok().body("ok") };

    let app = rt.block_on(test::init_service(
        App::new()
            .wrap_fn(move |req, srv| {
                req.extensions_mut().insert(cert.clone());
                srv.call(req)
            })
            .route("/", web::get().to(ok)),
    ));
    g.bench_function("stand-in", |b| {
        b.iter(|| rt.block_on(async { black_box(test::call_service(&app, req(&valid)).await) }))
    });
    for (id, cache) in [("valid-uncached", 0), ("valid-cached", 1024)] {
        let app = rt.block_on(test::init_service(
            App::new()
                .wrap(xfcc_actix::Xfcc::new(allowlist_policy(cache)))
                .route("/", web::get().to(ok)),
        ));
        g.bench_function(id, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let res = test::call_service(&app, req(&valid)).await;
                    assert_eq!(res.status(), 200);
                    black_box(res)
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, actix);
criterion_main!(benches);
