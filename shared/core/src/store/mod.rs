//! The DynamoDB store: items, keys, conditional writes and transactions. Nothing above this
//! module builds a key string or an attribute value.

pub mod agents;
pub mod audit;
pub mod cursor;
pub mod decisions;
pub mod idempotency;
pub mod item;
pub mod keys;
pub mod mfa;
pub mod policies;
pub mod policy_cache;
pub mod ratelimit;
pub mod tokens;
pub mod tools;
pub mod users;

#[cfg(test)]
mod shapes;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::TransactWriteItem;
pub use item::Item;

/// Why a store operation failed. The store's own words: `error::AppError` decides what each
/// means to a client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// A single-item condition failed.
    #[error("a write condition failed")]
    ConditionFailed,
    /// A transaction was cancelled; one reason code per item, in order ("None" for items that
    /// were fine, "ConditionalCheckFailed", "TransactionConflict", ...).
    #[error("transaction cancelled: {0:?}")]
    Cancelled(Vec<String>),
    /// DynamoDB could not be reached, timed out, or throttled.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A stored item does not have the shape this code writes.
    #[error("corrupt item: {0}")]
    Corrupt(String),
    /// The request's `Idempotency-Key` was spent by another request meanwhile.
    #[error("the idempotency key was spent by a concurrent request")]
    IdempotencyKeySpent,
    /// A listing cursor that this store did not issue for this listing.
    #[error(transparent)]
    BadCursor(#[from] cursor::CursorError),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Index of the first transaction item whose condition failed.
    pub fn failed_condition_index(&self) -> Option<usize> {
        match self {
            StoreError::Cancelled(reasons) => {
                reasons.iter().position(|r| r == "ConditionalCheckFailed")
            }
            _ => None,
        }
    }

    /// True when a transaction lost a race with another one on the same items.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Cancelled(r) if r.iter().any(|c| c == "TransactionConflict"))
    }
}

/// Maps an SDK error: transport failures and throttling are `Unavailable` (503), a failed
/// condition is `ConditionFailed`, anything else is `Other` (500).
pub(crate) fn sdk_error<E>(
    err: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if crate::aws::is_unavailable(&err) {
        return StoreError::Unavailable(format!("dynamodb: {}", crate::aws::describe(&err)));
    }
    // A 5xx that the SDK could not even parse (retries already spent) is the service failing.
    if let SdkError::ServiceError(ctx) = &err {
        if ctx.raw().status().is_server_error() {
            return StoreError::Unavailable(format!(
                "dynamodb: HTTP {}",
                ctx.raw().status().as_u16()
            ));
        }
    }
    match err.code() {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed,
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable",
        ) => StoreError::Unavailable(format!("dynamodb: {}", err.code().unwrap_or_default())),
        Some(code) => StoreError::Other(format!(
            "dynamodb: {code}: {}",
            err.message().unwrap_or_default()
        )),
        None => StoreError::Other(format!(
            "dynamodb: unexpected answer: {}",
            crate::aws::describe(&err)
        )),
    }
}

/// The table and the client that reaches it.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
}

impl Store {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes `items` atomically: all land or none do.
    ///
    /// DynamoDB cancels a transaction that meets another one on the same item
    /// (`TransactionConflict`) rather than queueing it, and answers
    /// `TransactionInProgressException` while a transaction with the same client token is still
    /// running. Neither says anything about the request, so both are retried here (a conflict
    /// with a fresh token, in-progress with the same one) after a short jittered pause; the
    /// retry then meets the winner's result (a failed condition the caller maps to 409 or 412).
    /// Still conflicting after the retries, it is `Unavailable` (503), never a 500.
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        // A request sent with an Idempotency-Key spends it in its first transaction that lands
        // (store/idempotency.rs); the record goes last.
        let Some(record) = idempotency::take_pending() else {
            return self.transact_items(&items).await;
        };
        let mut items = items;
        let now = crate::time::now().timestamp();
        items.push(idempotency::put_in(
            &self.table,
            record.clone(),
            &items,
            now,
        )?);
        let result = self.transact_items(&items).await;
        if result.is_err() {
            idempotency::restore_pending(record);
        }
        match result {
            Err(StoreError::Cancelled(reasons))
                if reasons.last().map(String::as_str) == Some("ConditionalCheckFailed") =>
            {
                Err(StoreError::IdempotencyKeySpent)
            }
            other => other,
        }
    }

    /// Sends one transaction, retrying conflicts (see [`Store::transact`]).
    async fn transact_items(&self, items: &[TransactWriteItem]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        const ATTEMPTS: u32 = 4;
        let mut token = uuid::Uuid::new_v4().to_string();
        for attempt in 1..=ATTEMPTS {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.to_vec()))
                // Makes the SDK's own retries idempotent: a retry of a transaction that already
                // landed (its answer lost to a timeout) succeeds instead of failing every
                // condition.
                .client_request_token(&token)
                .send()
                .await;
            let (retry_same_token, error) = match result {
                Ok(_) => return Ok(()),
                Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                    TransactWriteItemsError::TransactionCanceledException(e) => {
                        let reasons: Vec<String> = e
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().unwrap_or("None").to_owned())
                            .collect();
                        let only_conflict = reasons.iter().any(|r| r == "TransactionConflict")
                            && !reasons.iter().any(|r| r == "ConditionalCheckFailed");
                        if !only_conflict {
                            return Err(StoreError::Cancelled(reasons));
                        }
                        (false, StoreError::Cancelled(reasons))
                    }
                    TransactWriteItemsError::TransactionInProgressException(_) => (
                        true,
                        StoreError::Unavailable(
                            "dynamodb: the same transaction is still in progress".into(),
                        ),
                    ),
                    _ => return Err(sdk_error(SdkError::ServiceError(ctx))),
                },
                Err(other) => return Err(sdk_error(other)),
            };
            if attempt == ATTEMPTS {
                return Err(match error {
                    StoreError::Cancelled(_) => StoreError::Unavailable(
                        "dynamodb: the transaction kept conflicting with others".into(),
                    ),
                    other => other,
                });
            }
            if !retry_same_token {
                token = uuid::Uuid::new_v4().to_string();
            }
            let pause = rand::random_range(5..25u64) * u64::from(attempt);
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        unreachable!("the last attempt returns")
    }

    /// A strongly consistent read of one item.
    pub async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", item::s(pk))
            .key("SK", item::s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out.item)
    }
}

/// A transaction `Put` that must not overwrite an existing item.
pub(crate) fn put_new(table: &str, item: Item) -> TransactWriteItem {
    put_if(table, item, Some("attribute_not_exists(PK)"))
}

/// A transaction `Put`, optionally conditional.
pub(crate) fn put_if(table: &str, item: Item, condition: Option<&str>) -> TransactWriteItem {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .expect("table and item are set");
    TransactWriteItem::builder().put(put).build()
}

/// A transaction `Delete` of `pk`/`sk`.
pub(crate) fn delete(table: &str, pk: String, sk: &str) -> TransactWriteItem {
    let del = aws_sdk_dynamodb::types::Delete::builder()
        .table_name(table)
        .key("PK", item::s(pk))
        .key("SK", item::s(sk))
        .build()
        .expect("table and key are set");
    TransactWriteItem::builder().delete(del).build()
}

/// One keyed query, run page after page by [`Store::query_page`].
#[derive(Clone, Debug, Default)]
pub(crate) struct PageQuery {
    pub index: Option<&'static str>,
    pub key_condition: String,
    pub filter: Option<String>,
    /// The attributes to read, when the caller decodes a projection struct. Must include the
    /// key attributes of [`PageQuery::key_names`], which resume positions are made of.
    pub projection: Option<&'static str>,
    pub names: std::collections::HashMap<String, String>,
    pub values: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    pub forward: bool,
}

impl PageQuery {
    /// The key attributes a resume position needs: the table's, plus the index's.
    pub fn key_names(&self) -> &'static [&'static str] {
        match self.index {
            Some(keys::GSI1) => &["PK", "SK", "GSI1PK", "GSI1SK"],
            Some(keys::GSI2) => &["PK", "SK", "GSI2PK", "GSI2SK"],
            _ => &["PK", "SK"],
        }
    }
}

impl PageQuery {
    /// Where a listing resumes: `cursor` opened for `binding` and checked to lie within the
    /// listing (`rules`), so a forged or foreign cursor is a 400, never a DynamoDB error.
    pub fn start_from(
        &self,
        binding: &cursor::Binding,
        cursor: Option<&str>,
        rules: &[(&str, cursor::Must<'_>)],
    ) -> Result<Option<Item>, StoreError> {
        cursor
            .map(|c| {
                let c = cursor::decode(binding, c, self.key_names())?;
                cursor::within(&c, rules)?;
                Ok(c.key)
            })
            .transpose()
    }
}

/// A page of items and where to resume, if anything may remain.
pub(crate) struct Page<T = Item> {
    pub items: Vec<T>,
    /// The key of the last item returned: never a row the caller was not given.
    pub resume: Option<Item>,
}

/// How many items one listing request may read before it returns what it has (with a cursor).
/// DynamoDB's `Limit` counts items read, not matched, so filtered listings keep querying until
/// the page is full or this bound is hit. A request that has found nothing yet reads on: a
/// cursor resumes from a row the caller was shown, so there must be one.
pub(crate) const MAX_ITEMS_READ_PER_REQUEST: usize = 2000;

impl Store {
    /// Runs `q` from `start` until `want` items matched, the data ran out, or the read bound was
    /// hit. Unfiltered, one call suffices (it asks for `want + 1` items to know if more exist).
    pub(crate) async fn query_page(
        &self,
        q: &PageQuery,
        start: Option<Item>,
        want: usize,
    ) -> Result<Page, StoreError> {
        self.query_page_of(q, start, want, |it| Ok(Some(it))).await
    }

    /// [`Store::query_page`] through `accept`, which decodes each item read and keeps it or
    /// passes over it (a row the caller may not see). The page resumes after the last item
    /// kept, so a cursor never holds a row the caller was not shown (docs/architecture.md,
    /// "Cursors").
    pub(crate) async fn query_page_of<T>(
        &self,
        q: &PageQuery,
        mut start: Option<Item>,
        want: usize,
        mut accept: impl FnMut(Item) -> Result<Option<T>, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let names = q.key_names();
        let mut items: Vec<T> = Vec::new();
        let mut last: Option<Item> = None;
        let (mut read, mut passed) = (0usize, 0usize);
        loop {
            let ask = if q.filter.is_some() || passed > 0 {
                100.max(want + 1)
            } else {
                want + 1 - items.len()
            };
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(q.index.map(str::to_owned))
                .key_condition_expression(&q.key_condition)
                .set_filter_expression(q.filter.clone())
                .set_projection_expression(q.projection.map(str::to_owned))
                .set_expression_attribute_names(Some(q.names.clone()).filter(|m| !m.is_empty()))
                .set_expression_attribute_values(Some(q.values.clone()).filter(|m| !m.is_empty()))
                .scan_index_forward(q.forward)
                .set_exclusive_start_key(start.take())
                .limit(ask as i32)
                .send()
                .await
                .map_err(sdk_error)?;
            read += out.scanned_count() as usize;
            for it in out.items.unwrap_or_default() {
                let key = key_of(&it, names);
                match accept(it)? {
                    // One more than wanted: more exist, and the page ends at the one before.
                    Some(_) if items.len() == want => {
                        return Ok(Page {
                            items,
                            resume: last,
                        })
                    }
                    Some(t) => {
                        items.push(t);
                        last = Some(key);
                    }
                    None => passed += 1,
                }
            }
            match out.last_evaluated_key {
                None => {
                    return Ok(Page {
                        items,
                        resume: None,
                    })
                }
                // Enough read: resume after the last item returned (read again next time).
                Some(_) if read >= MAX_ITEMS_READ_PER_REQUEST && last.is_some() => {
                    return Ok(Page {
                        items,
                        resume: last,
                    })
                }
                Some(k) => start = Some(k),
            }
        }
    }
}

impl Store {
    /// One page of a listing, decoded: resumes at `cursor` (opened for `binding` and checked to
    /// lie within `rules`, see [`PageQuery::start_from`]), reads up to `limit` items that
    /// `decode` keeps, and answers them with the cursor of the next page.
    pub(crate) async fn list_page<T>(
        &self,
        q: &PageQuery,
        binding: &cursor::Binding,
        cursor: Option<&str>,
        rules: &[(&str, cursor::Must<'_>)],
        limit: usize,
        decode: impl FnMut(Item) -> Result<Option<T>, StoreError>,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let start = q.start_from(binding, cursor, rules)?;
        let page = self.query_page_of(q, start, limit, decode).await?;
        Ok((
            page.items,
            page.resume.map(|k| cursor::encode(binding, &k, None)),
        ))
    }
}

/// Keeps every item `decode` decodes: for [`Store::list_page`] over a listing the caller sees
/// whole.
pub(crate) fn all<T>(
    decode: impl Fn(Item) -> Result<T, StoreError>,
) -> impl FnMut(Item) -> Result<Option<T>, StoreError> {
    move |it| decode(it).map(Some)
}

/// The key attributes of `item` named in `names`.
pub(crate) fn key_of(item: &Item, names: &[&str]) -> Item {
    names
        .iter()
        .filter_map(|n| item.get(*n).map(|v| ((*n).to_owned(), v.clone())))
        .collect()
}
