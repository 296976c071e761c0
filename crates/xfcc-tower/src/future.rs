//! The response future of [`Xfcc`](crate::Xfcc).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::rejection::{FromExtractor, OnRejection, XfccRejection};

pin_project! {
    /// Either the inner service's future or a ready rejection.
    #[derive(Debug)]
    pub struct ResponseFuture<F, B, R> {
        #[pin]
        state: State<F, B, R>,
    }
}

pin_project! {
    #[project = StateProj]
    #[derive(Debug)]
    enum State<F, B, R> {
        Inner { #[pin] future: F, on_rejection: R },
        Reject { response: Option<Response<B>> },
    }
}

impl<F, B, R> ResponseFuture<F, B, R> {
    /// The inner service's response; a rejection its `ClientCert`
    /// extractor answered with is reshaped by `on_rejection`, as the
    /// layer's own rejections are.
    pub(crate) fn inner(future: F, on_rejection: R) -> Self {
        Self {
            state: State::Inner {
                future,
                on_rejection,
            },
        }
    }

    pub(crate) fn reject(response: Response<B>) -> Self {
        Self {
            state: State::Reject {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E, R> Future for ResponseFuture<F, B, R>
where
    F: Future<Output = Result<Response<B>, E>>,
    R: OnRejection<B>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner {
                future,
                on_rejection,
            } => future.poll(cx).map_ok(|res| {
                if res.extensions().get::<FromExtractor>().is_none() {
                    return res;
                }
                match res.extensions().get::<XfccRejection>().cloned() {
                    Some(r) => on_rejection.response(&r),
                    None => res,
                }
            }),
            StateProj::Reject { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                // Polled again after completion: stay pending rather than panic.
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rejection::JsonForbidden;

    #[test]
    fn a_rejection_polled_after_completion_stays_pending() {
        let mut fut = std::pin::pin!(ResponseFuture::<
            std::future::Ready<Result<Response<bytes::Bytes>, ()>>,
            bytes::Bytes,
            JsonForbidden,
        >::reject(Response::new(bytes::Bytes::from_static(
            b"no"
        ))));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(
            matches!(fut.as_mut().poll(&mut cx), Poll::Ready(Ok(ref r)) if r.body().as_ref() == b"no")
        );
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
}
