//! Every request's way in and out, in one middleware (each layer of its own cost a boxed future
//! and a call per request): the request log's line (`telemetry::RequestLine`), 503 while
//! draining and the count of requests in flight (`drain`), preflights and the CORS headers of
//! the covered paths (`cors`), and the security headers every answer carries unless its handler
//! set its own.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::telemetry::RequestLine;
use crate::{AppState, cors, drain};

/// The security headers of every answer.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::CONTENT_SECURITY_POLICY),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
];

/// The middleware.
pub async fn layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let line = RequestLine::begin(&req);
    let cross_origin = cors::covered(req.path());
    let serving = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.drain.serving());
    let outcome = if let Some(None) = serving {
        Ok(req.into_response(drain::refusal()).map_into_right_body())
    } else if cross_origin && req.method() == Method::OPTIONS {
        Ok(req.into_response(cors::preflight()).map_into_right_body())
    } else {
        next.call(req)
            .await
            .map(ServiceResponse::map_into_left_body)
    };
    drop(serving);
    let outcome = outcome.map(|mut res| {
        let headers = res.headers_mut();
        for (name, value) in SECURITY_HEADERS {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
        if cross_origin {
            cors::annotate(headers);
        }
        res
    });
    if let Some(line) = line {
        line.end(match &outcome {
            Ok(res) => res.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        });
    }
    outcome
}
