//! An authenticator app for the tests: codes computed from the secret an enrolment returned,
//! with toolreg-core's RFC 6238 functions (unit-tested against the RFC's vectors).

use toolreg_core::auth::totp;

/// One enrolled secret and the newest step whose code was handed out (the server accepts each
/// step once, and only steps within one of its current step).
pub struct Authenticator {
    pub secret: Vec<u8>,
    last: Option<i64>,
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

impl Authenticator {
    /// From the base32 `secret` of an enrolment answer.
    pub fn new(secret_base32: &str) -> Authenticator {
        Authenticator {
            secret: totp::base32_decode(secret_base32).expect("the secret is base32"),
            last: None,
        }
    }

    /// A code of a step not handed out before that the server accepts now: the oldest such
    /// step, so several codes fit into one 30-second step. A step whose acceptance ends within
    /// 5 s is skipped (the request may reach the server just after), and when every acceptable
    /// step is spent this waits for the next one.
    pub async fn next_code(&mut self) -> String {
        loop {
            let t = now();
            let current = totp::step_at(t as i64);
            let left_in_current = (current + 1) as f64 * totp::STEP_SECONDS as f64 - t;
            let oldest = if left_in_current > 5.0 {
                current - 1
            } else {
                current
            };
            let step = self.last.map_or(oldest, |l| (l + 1).max(oldest));
            if step <= current + 1 {
                self.last = Some(step);
                return totp::code_at_step(&self.secret, step);
            }
            let wait = (step - 1) as f64 * totp::STEP_SECONDS as f64 - t + 0.2;
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait.max(0.1))).await;
        }
    }

    /// The code of the step last handed out (to replay it).
    pub fn last_code(&self) -> String {
        totp::code_at_step(&self.secret, self.last.expect("a code was handed out"))
    }

    /// A well-formed code no acceptable step has now.
    pub fn wrong_code(&self) -> String {
        let current = totp::step_at(now() as i64);
        let valid: Vec<String> = ((current - 2)..=(current + 2))
            .map(|s| totp::code_at_step(&self.secret, s))
            .collect();
        (0u32..)
            .map(|n| format!("{:06}", (n * 7919) % 1_000_000))
            .find(|c| !valid.contains(c))
            .expect("some code is wrong")
    }
}
