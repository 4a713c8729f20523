//! Amazon DynamoDB for kagami — the foundation the table and item operations build on:
//!
//! - [`attribute`]: [`AttributeValue`] (S, N, B, BOOL, NULL, M, L, SS, NS, BS) and
//!   [`Item`], read from and written to the generated wire shape with DynamoDB's
//!   validation (`AttributeValue::from_generated`, `item_from_generated`), and the item
//!   size DynamoDB counts ([`item_size`], [`check_item_size`]).
//! - [`number`]: exact decimal [`Number`]s with DynamoDB's range, precision, normalised
//!   text, order and arithmetic.
//! - [`ordering`]: [`KeyValue`], the `Ord` key type (numbers numerically, strings and
//!   binaries by bytes), and [`SortKeyCondition`] with the bounds of a range read.
//! - [`keys`]: [`KeySchema`] and [`PrimaryKey`]: keys out of items and `Key` parameters,
//!   and the rules on key attributes in updates and query filters.
//! - [`expressions`]: condition, filter, key-condition, projection and update expressions,
//!   and the legacy parameters converted to the same trees.
//!
//! An operation reads a request in this order (the order DynamoDB reports errors in):
//!
//! ```text
//! expressions::check_parameters(...)?;                        // expression vs legacy parameters
//! let mut attrs = ExpressionAttributes::new(names, values)?;   // the maps, checked
//! // UpdateItem:
//! let update    = attrs.update(update_expression)?;            // or legacy::attribute_updates
//! let condition = attrs.condition(ExpressionKind::ConditionExpression, text)?; // or legacy::expected
//! // Query / Scan:
//! let filter    = attrs.condition(ExpressionKind::FilterExpression, text)?;    // or legacy::filter
//! let projection = attrs.projection(text)?;                    // or legacy::attributes_to_get
//! let keys      = attrs.key_condition(text)?;                  // or legacy::key_conditions
//! attrs.check_all_used()?;
//! let key   = schema.key_from_key(&key_item)?;                 // GetItem/UpdateItem/DeleteItem
//! schema.check_update(&update)?;
//! let query = keys.resolve((hash_name, hash_type), range)?;    // partition + sort-key range
//! if condition.evaluate(&current_item) { let outcome = update.apply(&current_item)?; ... }
//! // (update.apply_new(&schema.key_item(&key)) when the item does not exist yet)
//! ```
//!
//! Every refusal is a [`ValidationError`] carrying AWS's message; it converts into the
//! generated `DynamodbError::ValidationException` and into a `ServiceError`.

pub mod generated;

pub mod attribute;
pub mod errors;
pub mod expressions;
pub mod keys;
pub mod number;
pub mod ordering;

pub use attribute::{AttributeValue, Item, Map, ScalarType, check_item_size, check_updated_item_size, item_size};
pub use errors::ValidationError;
pub use expressions::{Condition, ExpressionAttributes, ExpressionKind, KeyConditions, KeyQuery, Path, Projection, Update, UpdateOutcome};
pub use keys::{KeyAttribute, KeySchema, PrimaryKey};
pub use number::Number;
pub use ordering::{KeyValue, SortKeyCondition};
