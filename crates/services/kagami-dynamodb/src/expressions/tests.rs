//! Table-driven tests of the expression engine: AWS documentation examples for what
//! expressions mean, and AWS's messages for what they refuse.

use super::*;
use crate::attribute::{Item, Map, ScalarType};
use crate::number::Number;
use crate::ordering::{KeyValue, SortKeyCondition};
use bytes::Bytes;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(Number::parse(v).unwrap_or_else(|e| panic!("{v}: {e}")))
}

fn l(v: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(v)
}

fn m(pairs: &[(&str, AttributeValue)]) -> AttributeValue {
    AttributeValue::M(pairs.iter().cloned().map(|(k, v)| (k.to_string(), v)).collect::<Map>())
}

fn ss(v: &[&str]) -> AttributeValue {
    AttributeValue::Ss(v.iter().map(|x| x.to_string()).collect())
}

fn ns(v: &[&str]) -> AttributeValue {
    AttributeValue::Ns(v.iter().map(|x| Number::parse(x).unwrap_or_else(|e| panic!("{e}"))).collect())
}

fn item(pairs: &[(&str, AttributeValue)]) -> Item {
    pairs.iter().cloned().map(|(k, v)| (k.to_string(), v)).collect()
}

fn attrs(names: &[(&str, &str)], values: &[(&str, AttributeValue)]) -> ExpressionAttributes {
    ExpressionAttributes::from_parts(
        names.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        values.iter().cloned().map(|(k, v)| (k.to_string(), v)).collect(),
    )
}

/// The ProductCatalog item of the DynamoDB developer guide's expression examples.
fn product() -> Item {
    item(&[
        ("Id", n("456")),
        ("ProductCategory", s("Sporting Goods")),
        ("Price", n("650")),
        ("Title", s("Mountain bike")),
        ("Brand", s("Brand-Company C")),
        ("InStock", AttributeValue::Bool(true)),
        ("Discontinued", AttributeValue::Null),
        ("Color", l(vec![s("Red"), s("Black")])),
        ("RelatedItems", ns(&["341", "472", "649"])),
        ("Tags", ss(&["bike", "outdoor"])),
        (
            "Pictures",
            m(&[
                ("FrontView", s("http://example.com/products/456_front.jpg")),
                ("SideView", s("http://example.com/products/456_left_side.jpg")),
            ]),
        ),
        (
            "ProductReviews",
            m(&[
                ("FiveStar", l(vec![s("Excellent! Can't recommend it highly enough! Buy it!")])),
                ("OneStar", l(vec![s("Terrible product!")])),
            ]),
        ),
        ("Thumb", AttributeValue::B(Bytes::from_static(b"\x01\x02\x03"))),
    ])
}

fn condition_error(text: &str, names: &[(&str, &str)], values: &[(&str, AttributeValue)]) -> String {
    match attrs(names, values).condition(ExpressionKind::ConditionExpression, text) {
        Ok(c) => panic!("{text} parsed as {c:?}"),
        Err(e) => e.message,
    }
}

// ---- condition expressions: meaning -------------------------------------------------------

#[test]
fn conditions_evaluate_as_the_developer_guide_describes() {
    let values: Vec<(&str, AttributeValue)> = vec![
        (":l", s("L")),
        (":http", s("http://")),
        (":red", s("Red")),
        (":twenty", n("20")),
        (":lo", n("500")),
        (":hi", n("1000")),
        (":cat1", s("Sporting Goods")),
        (":cat2", s("Gardening")),
        (":text100", s("100")),
        (":hundred", n("100")),
        (":two", n("2")),
        (":472", n("472")),
        (":bike", s("bike")),
        (":true", AttributeValue::Bool(true)),
        (
            ":pics",
            m(&[
                ("SideView", s("http://example.com/products/456_left_side.jpg")),
                ("FrontView", s("http://example.com/products/456_front.jpg")),
            ]),
        ),
        (":tags", ss(&["outdoor", "bike"])),
        (":x01", AttributeValue::B(Bytes::from_static(b"\x01"))),
        (":three", n("3")),
        (":zero", n("0")),
    ];
    let cases: &[(&str, bool)] = &[
        ("attribute_exists(Pictures.SideView)", true),
        ("attribute_exists(Pictures.RearView)", false),
        ("attribute_not_exists(Manufacturer)", true),
        ("attribute_not_exists(Price)", false),
        ("attribute_type(ProductReviews.FiveStar, :l)", true),
        ("attribute_type(Price, :l)", false),
        ("begins_with(Pictures.FrontView, :http)", true),
        ("begins_with(Title, :http)", false),
        ("begins_with(Thumb, :x01)", true),
        ("contains(Color, :red)", true),
        ("contains(Title, :bike)", true),
        ("contains(Tags, :bike)", true),
        ("contains(RelatedItems, :472)", true),
        ("contains(RelatedItems, :hundred)", false),
        ("contains(Price, :hundred)", false),
        ("size(Brand) <= :twenty", true),
        ("size(Color) = :two", true),
        ("size(RelatedItems) = :three", true),
        ("size(Pictures) = :two", true),
        ("size(Thumb) = :three", true),
        ("size(Price) >= :zero", false),
        ("size(Absent) >= :zero", false),
        ("Price BETWEEN :lo AND :hi", true),
        ("Price BETWEEN :hundred AND :lo", false),
        ("ProductCategory IN (:cat1, :cat2)", true),
        ("ProductCategory IN (:cat2, :red)", false),
        ("Price > :hundred", true),
        // Values of different types are never ordered, and never equal.
        ("Price > :text100", false),
        ("Price < :text100", false),
        ("Price = :text100", false),
        ("Price <> :text100", true),
        // A missing attribute equals nothing.
        ("Absent = :red", false),
        ("Absent <> :red", true),
        ("Absent < :red", false),
        ("Absent BETWEEN :lo AND :hi", false),
        ("Color[0] = :red", true),
        ("Color[1] = :red", false),
        ("Color[5] = :red", false),
        ("#pr.FiveStar[0] <> :red", true),
        ("InStock = :true", true),
        ("Pictures = :pics", true),
        ("Tags = :tags", true),
        ("NOT Price > :hundred", false),
        ("NOT (Price > :hundred)", false),
        ("Price > :hi OR Price < :lo AND Price > :hundred", false),
        ("(Price > :hi OR Price < :lo) AND Price > :hundred", false),
        ("Price < :hi OR Price > :hi AND Price < :hundred", true),
        ("(Price) = (:lo) OR (InStock = :true)", true),
        ("Price >= :lo and price >= :lo", false),
        ("Price >= :lo AND Price <= :hi AND attribute_exists(Id)", true),
    ];
    let target = product();
    for (text, expected) in cases {
        let mut a = attrs(&[("#pr", "ProductReviews")], &values);
        let condition = a.condition(ExpressionKind::FilterExpression, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(condition.evaluate(&target), *expected, "{text}");
    }
}

#[test]
fn an_absent_item_fails_every_condition_but_absence() {
    let empty = Item::new();
    let mut a = attrs(&[], &[(":v", s("x"))]);
    assert!(a.condition(ExpressionKind::ConditionExpression, "attribute_not_exists(pk)").is_ok_and(|c| c.evaluate(&empty)));
    assert!(a.condition(ExpressionKind::ConditionExpression, "attribute_exists(pk)").is_ok_and(|c| !c.evaluate(&empty)));
    assert!(a.condition(ExpressionKind::ConditionExpression, "pk = :v").is_ok_and(|c| !c.evaluate(&empty)));
}

#[test]
fn conditions_list_the_attributes_they_read() {
    let mut a = attrs(&[("#k", "pk")], &[(":v", s("x"))]);
    let c = a.condition(ExpressionKind::FilterExpression, "attribute_exists(a.b) AND #k = :v OR size(c[1]) > :v AND a = :v");
    assert_eq!(c.map(|c| c.top_level_attributes().join(",")), Ok("a,pk,c".to_string()));
}

// ---- condition expressions: refusals ------------------------------------------------------

#[test]
fn condition_expressions_are_refused_with_aws_messages() {
    let v = || {
        vec![
            (":v", s("v")),
            (":a", s("a")),
            (":b", s("b")),
            (":n", n("1")),
            (":type", s("STRING")),
            (":s", s("S")),
            (":l", l(vec![])),
            (":t", AttributeValue::Bool(true)),
        ]
    };
    let prefix = "Invalid ConditionExpression: ";
    let cases: Vec<(&str, &str)> = vec![
        ("status = :v", "Attribute name is a reserved keyword; reserved keyword: status"),
        ("a.Name = :v", "Attribute name is a reserved keyword; reserved keyword: Name"),
        ("#a = :v", "An expression attribute name used in the document path is not defined; attribute name: #a"),
        ("a = :x", "An expression attribute value used in expression is not defined; attribute value: :x"),
        ("foo(a)", "Invalid function name; function: foo"),
        ("if_not_exists(a, :v) = :v", "The function is not allowed in a condition expression; function: if_not_exists"),
        ("list_append(a, :v)", "The function is not allowed in a condition expression; function: list_append"),
        ("BEGINS_WITH(a, :v)", "Invalid function name; function: BEGINS_WITH"),
        ("begins_with(a, :v) = :v", "The function is not allowed to be used this way in an expression; function: begins_with"),
        ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
        (
            "attribute_exists(a, b)",
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2",
        ),
        (
            "begins_with(a)",
            "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1",
        ),
        ("size(a, b) > :n", "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"),
        (
            "a = a",
            "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
        ),
        (
            "begins_with(a.b, a.b)",
            "The first operand must be distinct from the remaining operands for this operator or function; operator: begins_with, first operand: [a, b]",
        ),
        ("attribute_exists(:v)", "Operator or function requires a document path; operator or function: attribute_exists"),
        ("attribute_not_exists(size(a))", "Operator or function requires a document path; operator or function: attribute_not_exists"),
        ("attribute_type(a, :type)", "Invalid attribute type name found; type: STRING, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"),
        ("attribute_type(a, :n)", "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("begins_with(a, :n)", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("size(:n) > :n", "Incorrect operand type for operator or function; operator or function: size, operand type: N"),
        (
            "a BETWEEN :b AND :a",
            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}",
        ),
        (
            "a BETWEEN :n AND :a",
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}",
        ),
        ("a < :l", "Incorrect operand type for operator or function; operator or function: <, operand type: L"),
        (":t >= a", "Incorrect operand type for operator or function; operator or function: >=, operand type: BOOL"),
        ("a BETWEEN :l AND :l", "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: L"),
        ("((a = :v))", "The expression has redundant parentheses;"),
        ("a = ((:v))", "The expression has redundant parentheses;"),
        ("a x b", r#"Syntax error; token: "x", near: "a x b""#),
        ("a = :v AND", r#"Syntax error; token: "<EOF>", near: "AND""#),
        // Priorities: a reserved word is reported before an undefined value, a misused
        // function before both, redundant parentheses before everything.
        ("status = :undefined", "Attribute name is a reserved keyword; reserved keyword: status"),
        (
            "contains(a, :v) = :undefined AND status = :v",
            "The function is not allowed to be used this way in an expression; function: contains",
        ),
        ("((status = :v))", "The expression has redundant parentheses;"),
    ];
    for (text, message) in cases {
        assert_eq!(condition_error(text, &[], &v()), format!("{prefix}{message}"), "{text}");
    }
}

#[test]
fn in_takes_at_most_100_operands() {
    let values: Vec<(String, AttributeValue)> = (0..101).map(|i| (format!(":v{i}"), n(&i.to_string()))).collect();
    let refs: Vec<(&str, AttributeValue)> = values.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let list = |count: usize| (0..count).map(|i| format!(":v{i}")).collect::<Vec<_>>().join(", ");
    assert_eq!(
        condition_error(&format!("a IN ({})", list(101)), &[], &refs),
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
    assert!(attrs(&[], &refs).condition(ExpressionKind::ConditionExpression, &format!("a IN ({})", list(100))).is_ok());
}

#[test]
fn empty_and_oversized_expressions_are_refused() {
    let mut a = attrs(&[], &[]);
    assert_eq!(
        a.condition(ExpressionKind::ConditionExpression, "").map_err(|e| e.message),
        Err("Invalid ConditionExpression: The expression can not be empty;".to_string())
    );
    assert_eq!(a.update("  ").map_err(|e| e.message), Err("Invalid UpdateExpression: The expression can not be empty;".to_string()));
    assert_eq!(a.projection("").map_err(|e| e.message), Err("Invalid ProjectionExpression: The expression can not be empty;".to_string()));
    let long = vec!["a = b"; 1000].join(" AND ");
    assert_eq!(
        a.condition(ExpressionKind::FilterExpression, &long).map_err(|e| e.message),
        Err(format!("Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: {}", long.len()))
    );
}

#[test]
fn more_than_300_operators_are_refused() {
    let text = vec!["attribute_exists(a)"; 151].join(" AND ");
    assert_eq!(
        attrs(&[], &[]).condition(ExpressionKind::FilterExpression, &text).map_err(|e| e.message),
        Err("Invalid FilterExpression: The expression contains too many operators; operator count: 301".to_string())
    );
}

// ---- ExpressionAttributeNames / ExpressionAttributeValues ------------------------------------

fn g(value: AttributeValue) -> generated::AttributeValue {
    value.into_generated()
}

#[test]
fn attribute_maps_are_checked_before_any_expression() {
    let names = |pairs: &[(&str, &str)]| Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<IndexMap<_, _>>());
    let values = |pairs: Vec<(&str, generated::AttributeValue)>| {
        Some(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<IndexMap<_, _>>())
    };
    let err = |r: Result<ExpressionAttributes, ValidationError>| r.map(|_| ()).map_err(|e| e.message);
    assert_eq!(err(ExpressionAttributes::new(names(&[]), None)), Err("ExpressionAttributeNames must not be empty".into()));
    assert_eq!(
        err(ExpressionAttributes::new(names(&[("a", "a")]), None)),
        Err("ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\"".into())
    );
    assert_eq!(err(ExpressionAttributes::new(None, values(vec![]))), Err("ExpressionAttributeValues must not be empty".into()));
    assert_eq!(
        err(ExpressionAttributes::new(None, values(vec![("b", g(s("a")))]))),
        Err("ExpressionAttributeValues contains invalid key: Syntax error; key: \"b\"".into())
    );
    assert_eq!(
        err(ExpressionAttributes::new(None, values(vec![(":b", generated::AttributeValue::default())]))),
        Err("ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes for key :b".into())
    );
    assert_eq!(
        err(ExpressionAttributes::new(None, values(vec![(":b", generated::AttributeValue { ss: Some(vec!["a".into(), "a".into()]), ..Default::default() })]))),
        Err("ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: Input collection [a, a] contains duplicates. for key :b".into())
    );
    assert_eq!(
        err(ExpressionAttributes::new(None, values(vec![(":b", generated::AttributeValue { n: Some("b".into()), ..Default::default() })]))),
        Err("ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: b for key :b".into())
    );
    assert!(ExpressionAttributes::new(names(&[("#a_1", "a")]), values(vec![(":v_1", g(s("x")))])).is_ok());
}

#[test]
fn unused_names_and_values_are_refused_after_all_expressions() {
    let mut a = attrs(&[("#a", "a"), ("#b", "b"), ("#c", "c")], &[(":a", s("a")), (":b", s("b")), (":c", s("c"))]);
    assert!(a.update("REMOVE #c SET x = list_append(x, if_not_exists(y, :a))").is_ok());
    assert!(a.condition(ExpressionKind::ConditionExpression, "z = :b").is_ok());
    assert_eq!(
        a.check_all_used().map_err(|e| e.message),
        Err("Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}".into())
    );
    let mut a = attrs(&[("#a", "a")], &[(":a", s("a")), (":b", s("b")), (":c", s("c"))]);
    assert!(a.condition(ExpressionKind::ConditionExpression, "#a = :b").is_ok());
    assert_eq!(
        a.check_all_used().map_err(|e| e.message),
        Err("Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :c}".into())
    );
    let mut a = attrs(&[("#a", "a")], &[(":b", s("b"))]);
    assert!(a.condition(ExpressionKind::ConditionExpression, "#a = :b").is_ok());
    assert_eq!(a.check_all_used(), Ok(()));
}

#[test]
fn mixing_expression_and_legacy_parameters_is_refused() {
    assert_eq!(
        check_parameters(&["ConditionExpression"], &["Expected"], &["ConditionExpression"], false, false).map_err(|e| e.message),
        Err("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}".into())
    );
    assert_eq!(
        check_parameters(&[], &["Expected"], &["ConditionExpression"], true, false).map_err(|e| e.message),
        Err("ExpressionAttributeNames can only be specified when using expressions".into())
    );
    assert_eq!(
        check_parameters(&[], &[], &["UpdateExpression", "ConditionExpression"], false, true).map_err(|e| e.message),
        Err("ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null"
            .into())
    );
    assert_eq!(check_parameters(&["UpdateExpression"], &[], &["UpdateExpression", "ConditionExpression"], true, true), Ok(()));
}

// ---- key conditions ----------------------------------------------------------------------------

/// The sort key of a schema, if any: name and type.
type Range<'a> = Option<(&'a str, ScalarType)>;

fn key_query(text: &str, values: &[(&str, AttributeValue)], range: Range) -> Result<KeyQuery, String> {
    let mut a = attrs(&[("#sk", "sk")], values);
    let conditions = a.key_condition(text).map_err(|e| e.message)?;
    conditions.resolve(("pk", ScalarType::S), range).map_err(|e| e.message)
}

fn kv_s(v: &str) -> KeyValue {
    KeyValue::S(v.to_string())
}

fn kv_n(v: &str) -> KeyValue {
    KeyValue::N(Number::parse(v).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn key_conditions_become_a_partition_and_a_sort_key_range() {
    let values = [(":p", s("user#1")), (":a", n("10")), (":b", n("20")), (":pre", s("2024-"))];
    let sk_n = Some(("sk", ScalarType::N));
    let sk_s = Some(("sk", ScalarType::S));
    let cases: Vec<(&str, Range, Option<SortKeyCondition>)> = vec![
        ("pk = :p", sk_n, None),
        ("pk = :p", None, None),
        ("pk = :p AND sk = :a", sk_n, Some(SortKeyCondition::Eq(kv_n("10")))),
        ("pk = :p AND sk < :a", sk_n, Some(SortKeyCondition::Lt(kv_n("10")))),
        ("pk = :p AND sk <= :a", sk_n, Some(SortKeyCondition::Le(kv_n("10")))),
        ("pk = :p AND sk > :a", sk_n, Some(SortKeyCondition::Gt(kv_n("10")))),
        ("pk = :p AND sk >= :a", sk_n, Some(SortKeyCondition::Ge(kv_n("10")))),
        // The value may come first: the comparison is read the other way round.
        (":p = pk AND :a < #sk", sk_n, Some(SortKeyCondition::Gt(kv_n("10")))),
        ("#sk BETWEEN :a AND :b AND pk = :p", sk_n, Some(SortKeyCondition::Between(kv_n("10"), kv_n("20")))),
        ("pk = :p AND begins_with(#sk, :pre)", sk_s, Some(SortKeyCondition::BeginsWith(kv_s("2024-")))),
        ("(pk = :p) AND (sk > :a)", sk_n, Some(SortKeyCondition::Gt(kv_n("10")))),
    ];
    for (text, range, sort) in cases {
        let q = key_query(text, &values, range).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(q, KeyQuery { partition: kv_s("user#1"), sort }, "{text}");
    }
}

#[test]
fn key_conditions_of_the_wrong_shape_are_refused_with_aws_messages() {
    let values = [(":a", s("1")), (":b", s("1")), (":n", n("1"))];
    let cases: &[(&str, &str)] = &[
        ("a > :a and size(b) > :b or a > :b", "Invalid operator used in KeyConditionExpression: OR"),
        ("a in (:a, :b)", "Invalid operator used in KeyConditionExpression: IN"),
        ("attribute_exists(a)", "Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("attribute_not_exists(a)", "Invalid operator used in KeyConditionExpression: attribute_not_exists"),
        (
            "attribute_type(a, :a)",
            "Invalid KeyConditionExpression: Invalid attribute type name found; type: 1, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        ("contains(a.d, :b)", "Invalid operator used in KeyConditionExpression: contains"),
        ("not a > :b", "Invalid operator used in KeyConditionExpression: NOT"),
        ("a <> :b", "Invalid operator used in KeyConditionExpression: <>"),
        (
            ":a between :a and :b and b > :b",
            "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand",
        ),
        (
            "begins_with(:a, b) and a > :b",
            "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand",
        ),
        ("size(b) > :a AND a = :b", "KeyConditionExpressions cannot contain nested operations"),
        ("a > size(b.d)", "KeyConditionExpressions cannot contain nested operations"),
        ("b > a.b", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("b between c[1] and d", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("begins_with(a, b)", "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        ("a.d > :a", "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("b[0] > :a", "KeyConditionExpressions cannot have conditions on nested attributes"),
        (":b > :a AND a < :b", "Invalid condition in KeyConditionExpression: No key attribute specified"),
        ("b > :a AND b < :a and c = :a", "KeyConditionExpressions must only contain one condition per key"),
        ("a = :a and b = :a and c = :a", "Conditions can be of length 1 or 2 only"),
        ("a = :a and b > :b", "Query condition missed key schema element: pk"),
    ];
    for (text, message) in cases {
        assert_eq!(key_query(text, &values, Some(("sk", ScalarType::S))), Err(message.to_string()), "{text}");
    }
}

#[test]
fn key_conditions_are_checked_against_the_key_schema() {
    let values = [(":p", s("x")), (":a", s("1")), (":n", n("1")), (":empty", s(""))];
    let hash_only = None;
    let range = Some(("sk", ScalarType::S));
    let cases: Vec<(&str, Range, &str)> = vec![
        ("pk > :a", hash_only, "Query key condition not supported"),
        ("begins_with(pk, :a)", hash_only, "Query key condition not supported"),
        ("pk BETWEEN :a AND :a", hash_only, "Query key condition not supported"),
        ("pk = :a AND sk = :a", hash_only, "Query key condition not supported"),
        ("y = :a AND z = :a", hash_only, "Query key condition not supported"),
        ("sk BETWEEN :a AND :a", range, "Query condition missed key schema element: pk"),
        ("pk = :p AND extra = :a", range, "Query condition missed key schema element: sk"),
        ("pk = :n", range, "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("pk = :p AND sk > :n", range, "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (
            "pk = :p AND begins_with(sk, :a)",
            Some(("sk", ScalarType::N)),
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        ),
        (
            "pk = :empty",
            range,
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        (
            "pk = :p AND begins_with(sk, :empty)",
            range,
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: sk",
        ),
    ];
    for (text, range, message) in cases {
        assert_eq!(key_query(text, &values, range), Err(message.to_string()), "{text}");
    }
}

// ---- projection expressions -----------------------------------------------------------------------

#[test]
fn projections_return_the_named_parts_of_an_item() {
    let target = product();
    let mut a = attrs(&[("#pr", "ProductReviews"), ("#c", "Color")], &[]);
    let p = a
        .projection("Title, Pictures.SideView, #c[1], #pr.FiveStar[0], Absent, Pictures.Absent, RelatedItems[0]")
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = item(&[
        ("Title", s("Mountain bike")),
        ("Pictures", m(&[("SideView", s("http://example.com/products/456_left_side.jpg"))])),
        ("Color", l(vec![s("Black")])),
        ("ProductReviews", m(&[("FiveStar", l(vec![s("Excellent! Can't recommend it highly enough! Buy it!")]))])),
    ]);
    assert_eq!(p.apply(&target), expected);
    assert_eq!(p.top_level_attributes(), vec!["Title", "Pictures", "Color", "ProductReviews", "Absent", "RelatedItems"]);
    // Selected list elements come back in index order, gaps closed.
    let mut a = attrs(&[], &[]);
    let p = a.projection("l[3], l[1]").unwrap_or_else(|e| panic!("{e}"));
    let list = item(&[("l", l(vec![n("0"), n("1"), n("2"), n("3")]))]);
    assert_eq!(p.apply(&list), item(&[("l", l(vec![n("1"), n("3")]))]));
}

#[test]
fn projections_are_refused_with_aws_messages() {
    let cases: &[(&str, &str)] = &[
        ("a, b, a", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        (
            "a.b, a",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]",
        ),
        (
            "a.b, a[1]",
            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]",
        ),
        ("#x", "An expression attribute name used in the document path is not defined; attribute name: #x"),
        ("name, a", "Attribute name is a reserved keyword; reserved keyword: name"),
        ("a b", r#"Syntax error; token: "b", near: "a b""#),
        ("a,", r#"Syntax error; token: "<EOF>", near: ",""#),
    ];
    for (text, message) in cases {
        assert_eq!(
            attrs(&[], &[]).projection(text).map_err(|e| e.message),
            Err(format!("Invalid ProjectionExpression: {message}")),
            "{text}"
        );
    }
    assert!(attrs(&[], &[]).projection("a.b, a.c[2], b[1], b[2]").is_ok());
}

// ---- update expressions -----------------------------------------------------------------------------

fn update_error(text: &str, names: &[(&str, &str)], values: &[(&str, AttributeValue)]) -> String {
    match attrs(names, values).update(text) {
        Ok(u) => panic!("{text} parsed as {u:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn update_expressions_are_refused_with_aws_messages() {
    let values = || {
        vec![
            (":a", s("a")),
            (":b", n("1")),
            (":c", AttributeValue::B(Bytes::from_static(b"a"))),
            (":d", AttributeValue::Bool(true)),
            (":e", AttributeValue::Null),
            (":f", ss(&["a"])),
            (":i", m(&[])),
            (":j", l(vec![])),
        ]
    };
    let names = [("#a", "a"), ("#b", "b"), ("#c", "c"), ("#d", "[3]")];
    let p = "Invalid UpdateExpression: ";
    let cases: Vec<(&str, String)> = vec![
        (" set #c = :a set abOrt = :a ", "Attribute name is a reserved keyword; reserved keyword: abOrt".into()),
        (" remove Absolute ", "Attribute name is a reserved keyword; reserved keyword: Absolute".into()),
        ("set #c = if_not_exist(:a) set c = :a", "Invalid function name; function: if_not_exist".into()),
        ("set a = #c set c = :a", "The \"SET\" section can only be used once in an update expression;".into()),
        ("remove #a set x = :a remove e", "The \"REMOVE\" section can only be used once in an update expression;".into()),
        ("add #a :b set x = :a add e :b", "The \"ADD\" section can only be used once in an update expression;".into()),
        ("delete #a :f set x = :a delete #b :f", "The \"DELETE\" section can only be used once in an update expression;".into()),
        ("SET #x = if_not_exists(:a)", "An expression attribute name used in the document path is not defined; attribute name: #x".into()),
        ("SET #a = if_not_exists(a, :z)", "An expression attribute value used in expression is not defined; attribute value: :z".into()),
        (
            "set d[1] = :a, d.b = :a, c[1].a = :a, #c = if_not_exists(x, :a)",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c, [1], a], path two: [c]".into(),
        ),
        ("set #c[3].#d = :a, #c[3] = :a", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c, [3], [3]], path two: [c, [3]]".into()),
        ("SET a = :a REMOVE a", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]".into()),
        (
            "set #c[3].#d = :a, #c.#d[3] = if_not_exists(x, :a)",
            "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [c, [3], [3]], path two: [c, [3], [3]]".into(),
        ),
        ("remove a.#c set a[1] = :a", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, c], path two: [a, [1]]".into()),
        ("add x.y :a", "Incorrect operand type for operator or function; operator: ADD, operand type: STRING".into()),
        ("delete x.y :a", "Incorrect operand type for operator or function; operator: DELETE, operand type: STRING".into()),
        ("add x :e", "Incorrect operand type for operator or function; operator: ADD, operand type: NULL".into()),
        ("add x :d", "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN".into()),
        ("add x :c", "Incorrect operand type for operator or function; operator: ADD, operand type: BINARY".into()),
        ("add x :i", "Incorrect operand type for operator or function; operator: ADD, operand type: MAP".into()),
        ("add x :j", "Incorrect operand type for operator or function; operator: ADD, operand type: LIST".into()),
        ("delete x :b", "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER".into()),
        ("set a = if_not_exists(c)", "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1".into()),
        ("set a = list_append(c)", "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1".into()),
        ("set a = if_not_exists(:a, c)", "Operator or function requires a document path; operator or function: if_not_exists".into()),
        ("set a = if_not_exists(if_not_exists(a, b), c)", "Operator or function requires a document path; operator or function: if_not_exists".into()),
        ("set a = list_append(:a, a)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: S".into()),
        ("set a = list_append(a, :b)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: N".into()),
        ("set a = list_append(:f, a)", "Incorrect operand type for operator or function; operator or function: list_append, operand type: SS".into()),
        ("set a = a + :a", "Incorrect operand type for operator or function; operator or function: +, operand type: S".into()),
        ("set a = :c + a", "Incorrect operand type for operator or function; operator or function: +, operand type: B".into()),
        ("set a = a - :j", "Incorrect operand type for operator or function; operator or function: -, operand type: L".into()),
        ("set a = a - :i", "Incorrect operand type for operator or function; operator or function: -, operand type: M".into()),
        ("set a = size(b)", "The function is not allowed in an update expression; function: size".into()),
        ("set a = begins_with(b, :a)", "The function is not allowed in an update expression; function: begins_with".into()),
        ("set a = foo(b)", "Invalid function name; function: foo".into()),
        ("set a = list_append(list_append(:j, :j), :j)", "The function is not allowed to be used this way in an expression; function: list_append".into()),
        ("set a = b + c + d", r#"Syntax error; token: "+", near: "c + d""#.into()),
        ("SET path = VALUE 1", r#"Syntax error; token: "1", near: "VALUE 1""#.into()),
        ("set a[1] = 1", r#"Syntax error; token: "1", near: "= 1""#.into()),
    ];
    for (text, message) in cases {
        assert_eq!(update_error(text, &names, &values()), format!("{p}{message}"), "{text}");
    }
}

fn apply(text: &str, values: &[(&str, AttributeValue)], before: &Item) -> Result<UpdateOutcome, String> {
    let mut a = attrs(&[("#n", "name")], values);
    let update = a.update(text).map_err(|e| e.message)?;
    update.apply(before).map_err(|e| e.message)
}

#[test]
fn updates_change_the_item_as_the_developer_guide_describes() {
    let before = item(&[
        ("Id", n("789")),
        ("Price", n("52")),
        ("ProductCategory", s("Home Improvement")),
        ("RelatedItems", l(vec![s("Hammer"), s("Nails"), s("Screwdriver")])),
        ("ProductReviews", m(&[("FiveStar", l(vec![s("Best product ever!")]))])),
        ("Color", ss(&["Red", "Blue", "Green"])),
        ("Tags", ns(&["1", "2"])),
        ("Stock", n("0.1")),
    ]);
    let values = [
        (":p", n("5")),
        (":ri", l(vec![s("Wrench")])),
        (":pr", s("Great!")),
        (":c", ss(&["Orange", "Purple"])),
        (":rm", ss(&["Red", "Green"])),
        (":t", ns(&["2", "3"])),
        (":zero", n("0")),
        (":dec", n("0.2")),
        (":name", s("Widget")),
        (":all", ns(&["1", "2"])),
    ];
    let cases: Vec<(&str, &str, AttributeValue)> = vec![
        ("SET Price = Price - :p", "Price", n("47")),
        ("SET Price = :p + Price", "Price", n("57")),
        ("SET Stock = Stock + :dec", "Stock", n("0.3")),
        ("SET Sold = if_not_exists(Sold, :zero)", "Sold", n("0")),
        ("SET Price = if_not_exists(Price, :zero)", "Price", n("52")),
        ("SET Visits = if_not_exists(Visits, :zero) + :p", "Visits", n("5")),
        (
            "SET RelatedItems = list_append(RelatedItems, :ri)",
            "RelatedItems",
            l(vec![s("Hammer"), s("Nails"), s("Screwdriver"), s("Wrench")]),
        ),
        (
            "SET RelatedItems = list_append(:ri, RelatedItems)",
            "RelatedItems",
            l(vec![s("Wrench"), s("Hammer"), s("Nails"), s("Screwdriver")]),
        ),
        ("SET RelatedItems[1] = :pr", "RelatedItems", l(vec![s("Hammer"), s("Great!"), s("Screwdriver")])),
        ("SET RelatedItems[10] = :pr", "RelatedItems", l(vec![s("Hammer"), s("Nails"), s("Screwdriver"), s("Great!")])),
        ("REMOVE RelatedItems[1], RelatedItems[2]", "RelatedItems", l(vec![s("Hammer")])),
        ("REMOVE RelatedItems[7]", "RelatedItems", l(vec![s("Hammer"), s("Nails"), s("Screwdriver")])),
        (
            "SET ProductReviews.OneStar = :ri",
            "ProductReviews",
            m(&[("FiveStar", l(vec![s("Best product ever!")])), ("OneStar", l(vec![s("Wrench")]))]),
        ),
        ("SET ProductReviews.FiveStar[0] = :pr", "ProductReviews", m(&[("FiveStar", l(vec![s("Great!")]))])),
        ("REMOVE ProductReviews.FiveStar", "ProductReviews", m(&[])),
        ("ADD Price :p", "Price", n("57")),
        ("ADD Quantity :p", "Quantity", n("5")),
        ("ADD Color :c", "Color", ss(&["Red", "Blue", "Green", "Orange", "Purple"])),
        ("ADD Tags :t", "Tags", ns(&["1", "2", "3"])),
        ("ADD NewSet :c", "NewSet", ss(&["Orange", "Purple"])),
        ("DELETE Color :rm", "Color", ss(&["Blue"])),
        ("SET #n = :name", "name", s("Widget")),
        ("SET OldPrice = Price, Price = :p", "OldPrice", n("52")),
    ];
    for (text, attribute, expected) in cases {
        let outcome = apply(text, &values, &before).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(outcome.item.get(attribute), Some(&expected), "{text}");
        assert_eq!(outcome.item.get("Id"), Some(&n("789")), "{text}: other attributes stay");
    }
    let removed = apply("REMOVE Price, ProductCategory DELETE Tags :all", &values, &before).unwrap_or_else(|e| panic!("{e}"));
    for gone in ["Price", "ProductCategory", "Tags"] {
        assert!(!removed.item.contains_key(gone), "{gone}: deleting every member removes the set");
    }
    let untouched = apply("DELETE Absent :c REMOVE Nothing", &values, &before).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(untouched.item, before);
}

#[test]
fn updates_that_cannot_apply_are_refused_with_aws_messages() {
    let before = item(&[
        ("a", s("key")),
        ("b", s("text")),
        ("c", m(&[("1", s("a"))])),
        ("d", l(vec![s("a"), s("b")])),
        ("e", n("1")),
        ("f", ns(&["1"])),
    ]);
    let values = [(":a", ss(&["a"])), (":n", n("1")), (":l", l(vec![])), (":ns", ns(&["1"]))];
    let doc_path = "The document path provided in the update expression is invalid for update";
    let missing = "The provided expression refers to an attribute that does not exist in the item";
    let data_type = "An operand in the update expression has an incorrect data type";
    let cases: &[(&str, &str)] = &[
        ("set x = y", missing),
        ("set x = list_append(y, :l)", missing),
        ("set x = d[5]", missing),
        ("set b.a = :n", doc_path),
        ("set b[1] = :n", doc_path),
        ("set y.a = :n", doc_path),
        ("set y[1] = :n", doc_path),
        ("set c[1] = :n", doc_path),
        ("set d.#one = :n", doc_path),
        ("remove b.a", doc_path),
        ("remove y.a", doc_path),
        ("remove c[1]", doc_path),
        ("delete y.a :a", doc_path),
        ("add y.a :a", doc_path),
        ("add c[1] :a", doc_path),
        ("set x = b + :n", data_type),
        ("set x = e - c", data_type),
        ("set x = list_append(d, e)", data_type),
        ("add b :n", data_type),
        ("add f :a", data_type),
        ("add e :a", data_type),
        ("delete f :a", data_type),
        ("delete e :ns", data_type),
        ("set e = e + :big", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ];
    for (text, message) in cases {
        let mut a =
            attrs(&[("#one", "1")], &[(":a", ss(&["a"])), (":n", n("1")), (":l", l(vec![])), (":ns", ns(&["1"])), (":big", n("9.9e125"))]);
        let update = a.update(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(update.apply(&before).map(|_| ()).map_err(|e| e.message), Err(message.to_string()), "{text}");
    }
    let _ = values;
}

#[test]
fn updates_report_the_attributes_they_touch_and_what_changed() {
    let mut a = attrs(&[], &[(":n", n("1")), (":v", s("new"))]);
    let update = a.update("SET m.x = :v, top = :v ADD hits :n REMOVE gone, m.y").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(update.touched_attributes(), vec!["m", "top", "hits", "gone"]);
    let before =
        item(&[("pk", s("k")), ("m", m(&[("x", s("old")), ("y", s("bye")), ("z", s("keep"))])), ("hits", n("41")), ("gone", s("g"))]);
    let outcome = update.apply(&before).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.updated_old(&before), item(&[("m", m(&[("x", s("old")), ("y", s("bye"))])), ("hits", n("41")), ("gone", s("g"))]));
    assert_eq!(outcome.updated_new(), item(&[("m", m(&[("x", s("new"))])), ("top", s("new")), ("hits", n("42"))]));
    assert_eq!(outcome.item, item(&[("pk", s("k")), ("m", m(&[("x", s("new")), ("z", s("keep"))])), ("hits", n("42")), ("top", s("new"))]));
}

#[test]
fn an_update_on_an_absent_item_creates_it() {
    let mut a = attrs(&[], &[(":c", ss(&["a", "b"])), (":d", n("5")), (":e", ss(&["a", "b"])), (":f", l(vec![s("a"), n("1")]))]);
    let update = a.update("REMOVE b DELETE c :c ADD d :d, e :e SET f = :f").unwrap_or_else(|e| panic!("{e}"));
    let outcome = update.apply(&Item::new()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.item, item(&[("d", n("5")), ("e", ss(&["a", "b"])), ("f", l(vec![s("a"), n("1")]))]));
}

// ---- legacy parameters --------------------------------------------------------------------------------

fn expected_value(
    value: Option<AttributeValue>,
    exists: Option<bool>,
    op: Option<&str>,
    list: Option<Vec<AttributeValue>>,
) -> generated::ExpectedAttributeValue {
    generated::ExpectedAttributeValue {
        value: value.map(g),
        exists,
        comparison_operator: op.map(str::to_string),
        attribute_value_list: list.map(|l| l.into_iter().map(g).collect()),
    }
}

type ExpectedEntries<'a> = Vec<(&'a str, generated::ExpectedAttributeValue)>;

#[test]
fn expected_converts_to_the_equivalent_condition() {
    let target = product();
    let cases: Vec<(ExpectedEntries, Option<&str>, bool)> = vec![
        (vec![("Price", expected_value(Some(n("650")), None, None, None))], None, true),
        (vec![("Price", expected_value(Some(n("650")), Some(true), None, None))], None, true),
        (vec![("Absent", expected_value(None, Some(false), None, None))], None, true),
        (vec![("Price", expected_value(None, Some(false), None, None))], None, false),
        (vec![("Price", expected_value(None, None, Some("GT"), Some(vec![n("600")])))], None, true),
        (vec![("Price", expected_value(None, None, Some("BETWEEN"), Some(vec![n("600"), n("700")])))], None, true),
        (vec![("Price", expected_value(None, None, Some("IN"), Some(vec![n("1"), n("650")])))], None, true),
        (vec![("Absent", expected_value(None, None, Some("NULL"), None))], None, true),
        (vec![("Price", expected_value(None, None, Some("NOT_NULL"), None))], None, true),
        (vec![("Tags", expected_value(None, None, Some("CONTAINS"), Some(vec![s("bike")])))], None, true),
        (vec![("Tags", expected_value(None, None, Some("NOT_CONTAINS"), Some(vec![s("bike")])))], None, false),
        (vec![("Absent", expected_value(None, None, Some("NOT_CONTAINS"), Some(vec![s("bike")])))], None, false),
        (vec![("Title", expected_value(Some(s("Mountain")), None, Some("BEGINS_WITH"), None))], None, true),
        (vec![("Absent", expected_value(None, None, Some("NE"), Some(vec![s("x")])))], None, true),
        (
            vec![
                ("Price", expected_value(Some(n("1")), None, None, None)),
                ("Title", expected_value(Some(s("Mountain bike")), None, None, None)),
            ],
            Some("OR"),
            true,
        ),
        (
            vec![
                ("Price", expected_value(Some(n("1")), None, None, None)),
                ("Title", expected_value(Some(s("Mountain bike")), None, None, None)),
            ],
            Some("AND"),
            false,
        ),
    ];
    for (entries, op, result) in cases {
        let map: IndexMap<String, generated::ExpectedAttributeValue> = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let condition = legacy::expected(map.clone(), op).unwrap_or_else(|e| panic!("{map:?}: {e}"));
        assert_eq!(condition.map(|c| c.evaluate(&target)), Some(result), "{map:?}");
    }
}

#[test]
fn malformed_expected_is_refused_with_aws_messages() {
    let p = "One or more parameter values were invalid: ";
    let cases: Vec<(generated::ExpectedAttributeValue, String)> = vec![
        (
            expected_value(Some(s("a")), None, Some("EQ"), Some(vec![s("a")])),
            format!("{p}Value and AttributeValueList cannot be used together for Attribute: a"),
        ),
        (
            expected_value(Some(s("a")), Some(true), Some("EQ"), Some(vec![s("a")])),
            format!("{p}Exists and ComparisonOperator cannot be used together for Attribute: a"),
        ),
        (
            expected_value(None, Some(true), Some("EQ"), Some(vec![s("a")])),
            format!("{p}Exists and ComparisonOperator cannot be used together for Attribute: a"),
        ),
        (
            expected_value(None, None, Some("EQ"), None),
            format!("{p}Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"),
        ),
        (
            expected_value(None, None, None, Some(vec![s("a")])),
            format!("{p}AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
        ),
        (expected_value(None, None, None, None), format!("{p}Value must be provided when Exists is null for Attribute: a")),
        (expected_value(None, Some(true), None, None), format!("{p}Value must be provided when Exists is true for Attribute: a")),
        (expected_value(Some(s("a")), Some(false), None, None), format!("{p}Value cannot be used when Exists is false for Attribute: a")),
        (
            expected_value(None, None, Some("EQ"), Some(vec![s("a"), s("b")])),
            format!("{p}Invalid number of argument(s) for the EQ ComparisonOperator"),
        ),
        (
            expected_value(None, None, Some("NULL"), Some(vec![s("a")])),
            format!("{p}Invalid number of argument(s) for the NULL ComparisonOperator"),
        ),
        (
            expected_value(None, None, Some("IN"), Some(vec![s("a"), n("1")])),
            format!("{p}AttributeValues inside AttributeValueList must be of same type"),
        ),
        (
            expected_value(None, None, Some("LT"), Some(vec![AttributeValue::Bool(true)])),
            format!("{p}ComparisonOperator LT is not valid for BOOL AttributeValue type"),
        ),
        (
            expected_value(None, None, Some("BEGINS_WITH"), Some(vec![n("1")])),
            format!("{p}ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
        ),
        (
            expected_value(None, None, Some("CONTAINS"), Some(vec![ss(&["a"])])),
            format!("{p}ComparisonOperator CONTAINS is not valid for SS AttributeValue type"),
        ),
        (
            expected_value(None, None, Some("BETWEEN"), Some(vec![s("b"), s("a")])),
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound".to_string(),
        ),
    ];
    for (entry, message) in cases {
        let map: IndexMap<String, generated::ExpectedAttributeValue> = [("a".to_string(), entry.clone())].into_iter().collect();
        assert_eq!(legacy::expected(map, None).map(|_| ()).map_err(|e| e.message), Err(message), "{entry:?}");
    }
}

fn legacy_condition(op: &str, list: Vec<AttributeValue>) -> generated::Condition {
    generated::Condition { comparison_operator: op.to_string(), attribute_value_list: Some(list.into_iter().map(g).collect()) }
}

#[test]
fn query_and_scan_filters_convert_to_conditions() {
    let target = product();
    let filter: IndexMap<String, generated::Condition> = [
        ("Price".to_string(), legacy_condition("LE", vec![n("650")])),
        ("Color".to_string(), legacy_condition("CONTAINS", vec![s("Red")])),
    ]
    .into_iter()
    .collect();
    assert_eq!(legacy::filter(filter.clone(), None).map(|c| c.map(|c| c.evaluate(&target))), Ok(Some(true)));
    let mut failing = filter;
    failing.insert("Title".to_string(), legacy_condition("EQ", vec![s("Other")]));
    assert_eq!(legacy::filter(failing.clone(), Some("AND")).map(|c| c.map(|c| c.evaluate(&target))), Ok(Some(false)));
    assert_eq!(legacy::filter(failing, Some("OR")).map(|c| c.map(|c| c.evaluate(&target))), Ok(Some(true)));
}

#[test]
fn legacy_key_conditions_resolve_like_expressions() {
    let conditions: IndexMap<String, generated::Condition> = [
        ("pk".to_string(), legacy_condition("EQ", vec![s("user#1")])),
        ("sk".to_string(), legacy_condition("BEGINS_WITH", vec![s("2024-")])),
    ]
    .into_iter()
    .collect();
    let q = legacy::key_conditions(conditions).and_then(|k| k.resolve(("pk", ScalarType::S), Some(("sk", ScalarType::S))));
    assert_eq!(q, Ok(KeyQuery { partition: kv_s("user#1"), sort: Some(SortKeyCondition::BeginsWith(kv_s("2024-"))) }));
    for op in ["NE", "CONTAINS", "NOT_CONTAINS", "IN"] {
        let c: IndexMap<String, generated::Condition> = [("pk".to_string(), legacy_condition(op, vec![s("a")]))].into_iter().collect();
        assert_eq!(
            legacy::key_conditions(c).map_err(|e| e.message),
            Err("Attempted conditional constraint is not an indexable operation".into()),
            "{op}"
        );
    }
    assert_eq!(legacy::key_conditions(IndexMap::new()).map_err(|e| e.message), Err("Conditions can be of length 1 or 2 only".into()));
}

#[test]
fn attributes_to_get_is_a_projection_of_top_level_attributes() {
    let p = legacy::attributes_to_get(vec!["Title".into(), "Price".into(), "Absent".into()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.apply(&product()), item(&[("Title", s("Mountain bike")), ("Price", n("650"))]));
    assert_eq!(
        legacy::attributes_to_get(vec!["a".into(), "a".into()]).map(|_| ()).map_err(|e| e.message),
        Err("One or more parameter values were invalid: Duplicate value in attribute name: a".into())
    );
}

fn attribute_update(action: Option<&str>, value: Option<AttributeValue>) -> generated::AttributeValueUpdate {
    generated::AttributeValueUpdate { value: value.map(g), action: action.map(str::to_string) }
}

#[test]
fn attribute_updates_convert_to_update_actions() {
    let before = item(&[("pk", s("k")), ("b", ns(&["1", "2", "3"])), ("c", s("a")), ("n", n("1")), ("l", l(vec![s("x")]))]);
    let updates: IndexMap<String, generated::AttributeValueUpdate> = [
        ("b".to_string(), attribute_update(Some("DELETE"), Some(ns(&["1", "4"])))),
        ("c".to_string(), attribute_update(Some("DELETE"), None)),
        ("n".to_string(), attribute_update(Some("ADD"), Some(n("3")))),
        ("l".to_string(), attribute_update(Some("ADD"), Some(l(vec![s("y")])))),
        ("p".to_string(), attribute_update(None, Some(s("put")))),
    ]
    .into_iter()
    .collect();
    let update = legacy::attribute_updates(updates).unwrap_or_else(|e| panic!("{e}"));
    let outcome = update.apply(&before).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        outcome.item,
        item(&[("pk", s("k")), ("b", ns(&["2", "3"])), ("n", n("4")), ("l", l(vec![s("x"), s("y")])), ("p", s("put"))])
    );
    assert_eq!(update.touched_attributes(), vec!["b", "c", "n", "l", "p"]);

    let mismatch: IndexMap<String, generated::AttributeValueUpdate> =
        [("c".to_string(), attribute_update(Some("ADD"), Some(n("1"))))].into_iter().collect();
    let result = legacy::attribute_updates(mismatch).and_then(|u| u.apply(&before));
    assert_eq!(result.map(|_| ()).map_err(|e| e.message), Err("Type mismatch for attribute to update".into()));
}

#[test]
fn malformed_attribute_updates_are_refused_with_aws_messages() {
    let p = "One or more parameter values were invalid: ";
    let cases: Vec<(generated::AttributeValueUpdate, String)> = vec![
        (attribute_update(Some("PUT"), None), format!("{p}Only DELETE action is allowed when no attribute value is specified")),
        (attribute_update(None, None), format!("{p}Only DELETE action is allowed when no attribute value is specified")),
        (attribute_update(Some("DELETE"), Some(s("1"))), format!("{p}DELETE action with value is not supported for the type S")),
        (attribute_update(Some("DELETE"), Some(l(vec![]))), format!("{p}DELETE action with value is not supported for the type L")),
        (attribute_update(Some("ADD"), Some(s("1"))), format!("{p}ADD action is not supported for the type S")),
        (attribute_update(Some("ADD"), Some(m(&[]))), format!("{p}ADD action is not supported for the type M")),
        (attribute_update(Some("ADD"), Some(AttributeValue::Bool(true))), format!("{p}ADD action is not supported for the type BOOL")),
    ];
    for (entry, message) in cases {
        let map: IndexMap<String, generated::AttributeValueUpdate> = [("a".to_string(), entry.clone())].into_iter().collect();
        assert_eq!(legacy::attribute_updates(map).map(|_| ()).map_err(|e| e.message), Err(message), "{entry:?}");
    }
}

#[test]
fn updated_old_and_new_hold_exactly_the_updated_paths() {
    let before = item(&[
        ("pk", s("p")),
        ("m", m(&[("a", m(&[("b", s("old-b")), ("c", n("1"))])), ("keep", s("mk"))])),
        ("l", l(vec![m(&[("a", s("old0")), ("b", s("b0"))]), m(&[("a", s("old1")), ("b", s("b1"))])])),
        ("rootList", l(vec![s("x"), s("y")])),
    ]);
    let values = [(":v", s("new")), (":inc", n("3"))];
    let cases: Vec<(&str, Item, Item)> = vec![
        ("SET m.a.b = :v", item(&[("m", m(&[("a", m(&[("b", s("old-b"))]))]))]), item(&[("m", m(&[("a", m(&[("b", s("new"))]))]))])),
        ("SET l[1].a = :v", item(&[("l", l(vec![m(&[("a", s("old1"))])]))]), item(&[("l", l(vec![m(&[("a", s("new"))])]))])),
        // Appending past the end leaves nothing at the exact path.
        ("SET rootList[99] = :v", Item::new(), Item::new()),
        ("REMOVE m.a.b", item(&[("m", m(&[("a", m(&[("b", s("old-b"))]))]))]), Item::new()),
        // After REMOVE l[0] the next element has moved into the removed index.
        (
            "REMOVE l[0]",
            item(&[("l", l(vec![m(&[("a", s("old0")), ("b", s("b0"))])]))]),
            item(&[("l", l(vec![m(&[("a", s("old1")), ("b", s("b1"))])]))]),
        ),
        ("ADD m.a.c :inc", item(&[("m", m(&[("a", m(&[("c", n("1"))]))]))]), item(&[("m", m(&[("a", m(&[("c", n("4"))]))]))])),
    ];
    for (text, old, new) in cases {
        let outcome = apply(text, &values, &before).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(outcome.updated_old(&before), old, "{text} UPDATED_OLD");
        assert_eq!(outcome.updated_new(), new, "{text} UPDATED_NEW");
    }
}

#[test]
fn keywords_ignore_case_and_whitespace_is_free() {
    let target = product();
    let values = [(":lo", n("500")), (":hi", n("1000")), (":red", s("Red")), (":blue", s("Blue"))];
    for text in [
        "Price between :lo and :hi",
        "Price BETWEEN :lo AND :hi and not contains ( Color , :blue )",
        "Price>=:lo AND Price<=:hi",
        "\n\tPrice\n>\t:lo ",
        "Price in (:lo,:hi) or Color[0]=:red",
    ] {
        let mut a = attrs(&[], &values);
        let condition = a.condition(ExpressionKind::ConditionExpression, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(condition.evaluate(&target), "{text}");
    }
    let mut a = attrs(&[], &[(":v", n("1"))]);
    let update = a.update("set a = :v remove b add c :v").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(update.touched_attributes(), vec!["a", "b", "c"]);
}

#[test]
fn legacy_filters_are_refused_with_aws_messages() {
    let p = "One or more parameter values were invalid: ";
    let cases: Vec<(generated::Condition, String)> = vec![
        (legacy_condition("EQ", vec![]), format!("{p}Invalid number of argument(s) for the EQ ComparisonOperator")),
        (legacy_condition("BETWEEN", vec![n("1")]), format!("{p}Invalid number of argument(s) for the BETWEEN ComparisonOperator")),
        (legacy_condition("IN", vec![]), format!("{p}Invalid number of argument(s) for the IN ComparisonOperator")),
        (legacy_condition("GT", vec![AttributeValue::Null]), format!("{p}ComparisonOperator GT is not valid for NULL AttributeValue type")),
        (legacy_condition("IN", vec![m(&[])]), format!("{p}ComparisonOperator IN is not valid for M AttributeValue type")),
        (
            legacy_condition("BETWEEN", vec![l(vec![]), l(vec![])]),
            format!("{p}ComparisonOperator BETWEEN is not valid for L AttributeValue type"),
        ),
    ];
    for (c, message) in cases {
        let filter: IndexMap<String, generated::Condition> = [("a".to_string(), c.clone())].into_iter().collect();
        assert_eq!(legacy::filter(filter, None).map(|_| ()).map_err(|e| e.message), Err(message), "{c:?}");
    }
}

#[test]
fn document_paths_nest_at_most_32_levels() {
    let ok = format!("a{}", ".b".repeat(31));
    assert!(attrs(&[], &[]).projection(&ok).is_ok());
    let deep = format!("a{}", ".b".repeat(32));
    assert_eq!(
        attrs(&[], &[]).projection(&deep).map_err(|e| e.message),
        Err("Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33".into())
    );
    let deep_update = format!("SET a{} = :v", "[0]".repeat(32));
    assert_eq!(
        attrs(&[], &[(":v", n("1"))]).update(&deep_update).map_err(|e| e.message),
        Err("Invalid UpdateExpression: The document path has too many nesting levels; nesting levels: 33".into())
    );
}

#[test]
fn projection_overlap_and_conflict_are_judged_on_the_paths_alone() {
    for text in [
        "a, a",
        "a.b, a.b",
        "a[1], a[1]",
        "a, a.b",
        "a.b, a",
        "a.b, a.b[2]",
        "a.b, a.b.c",
        "a, a.b[2].c",
        "a.b.d, a.b",
        "a.b.d.e, a.b",
        "a.b, a.b.d",
        "a.b, a.b.d.e",
    ] {
        let e = attrs(&[], &[]).projection(text).map(|_| ()).map_err(|e| e.message);
        assert!(e.as_ref().is_err_and(|m| m.contains("Two document paths overlap")), "{text}: {e:?}");
    }
    for text in ["a.b, a[1]", "a[1], a.b", "a.b[1], a.b.c", "a.b.c, a.b[1]"] {
        let e = attrs(&[], &[]).projection(text).map(|_| ()).map_err(|e| e.message);
        assert!(e.as_ref().is_err_and(|m| m.contains("Two document paths conflict")), "{text}: {e:?}");
    }
    for text in ["a, b", "a.b, a.c", "a.b.d, a.b.e", "a[1], a[2]", "a.b, a.c[2]", "a.b, a.c[1]"] {
        assert!(attrs(&[], &[]).projection(text).is_ok(), "{text}");
    }
}

#[test]
fn projections_of_missing_or_mistyped_paths_return_nothing() {
    let target =
        item(&[("a", m(&[("b", l(vec![n("2"), n("4"), m(&[("x", s("hi")), ("y", s("yo"))])])), ("c", n("5"))])), ("b", s("hello"))]);
    let cases: Vec<(&str, Item)> = vec![
        ("a.b[0]", item(&[("a", m(&[("b", l(vec![n("2")]))]))])),
        ("a.b[2].y", item(&[("a", m(&[("b", l(vec![m(&[("y", s("yo"))])]))]))])),
        ("a.b[0],a.b[1]", item(&[("a", m(&[("b", l(vec![n("2"), n("4")]))]))])),
        ("a.b[0],a.c", item(&[("a", m(&[("b", l(vec![n("2")])), ("c", n("5"))]))])),
        ("a.x, a.b[0], x, a.b[3].x", item(&[("a", m(&[("b", l(vec![n("2")]))]))])),
        ("x", Item::new()),
        ("a.b[3]", Item::new()),
        ("a.x.y", Item::new()),
        ("a.b.x", Item::new()),
        ("a[0]", Item::new()),
        ("a.b[0].x", Item::new()),
        ("a.b[0][0]", Item::new()),
    ];
    for (text, expected) in cases {
        let p = attrs(&[], &[]).projection(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(p.apply(&target), expected, "{text}");
    }
}

#[test]
fn list_indexes_refer_to_the_list_before_the_update() {
    let before = item(&[("a", l(vec![n("2"), n("3"), n("4"), n("5"), n("6"), n("7")]))]);
    let values = [(":val", n("17"))];
    for text in ["REMOVE a[1] SET a[3] = :val", "SET a[3] = :val REMOVE a[1]"] {
        let outcome = apply(text, &values, &before).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(outcome.item.get("a"), Some(&l(vec![n("2"), n("4"), n("17"), n("6"), n("7")])), "{text}");
    }
    // Appended elements are sorted by their element numbers.
    let before = item(&[("a", l(vec![s("one"), s("two"), s("three"), s("hello")]))]);
    let values = [(":val1", s("a1")), (":val2", s("a2")), (":val3", s("a3")), (":val4", s("a4"))];
    let outcome =
        apply("SET a[84] = :val1, a[37] = :val2, a[17] = :val3, a[50] = :val4", &values, &before).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.item.get("a"), Some(&l(vec![s("one"), s("two"), s("three"), s("hello"), s("a3"), s("a2"), s("a4"), s("a1")])));
    // Removing the last member leaves an empty document, not a missing attribute.
    let before = item(&[("m", m(&[("b", n("1"))])), ("l", l(vec![n("1")]))]);
    let outcome = apply("REMOVE m.b, l[0]", &[], &before).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.item, item(&[("m", m(&[])), ("l", l(vec![]))]));
}

#[test]
fn a_nested_remove_on_an_absent_item_is_ignored() {
    let key = item(&[("p", s("k"))]);
    for text in ["REMOVE x.y", "REMOVE x[0]"] {
        let update = attrs(&[], &[]).update(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(update.apply_new(&key).map(|o| o.item), Ok(key.clone()), "{text}");
        assert_eq!(
            update.apply(&key).map(|_| ()).map_err(|e| e.message),
            Err("The document path provided in the update expression is invalid for update".into()),
            "{text} on an existing item"
        );
    }
    let update = attrs(&[], &[(":v", n("7"))]).update("SET c.c = :v").unwrap_or_else(|e| panic!("{e}"));
    assert!(update.apply_new(&key).is_err(), "SET under a missing attribute is refused even for a new item");
}

#[test]
fn deep_nesting_is_refused_quickly_not_by_exhausting_the_stack() {
    let start = std::time::Instant::now();
    for depth in [30usize, 127, 129, 2000] {
        let text = format!("{}a{} = :v", "(".repeat(depth), ")".repeat(depth));
        let e = attrs(&[], &[(":v", n("1"))]).condition(ExpressionKind::ConditionExpression, &text).map_err(|e| e.message);
        assert!(e.is_err(), "{depth}");
        let nots = format!("{}a = :v", "NOT ".repeat(depth));
        let _ = attrs(&[], &[(":v", n("1"))]).condition(ExpressionKind::ConditionExpression, &nots);
        let update = format!("SET a = {}:v{}", "(".repeat(depth), ")".repeat(depth));
        let refused = attrs(&[], &[(":v", n("1"))]).update(&update).is_err();
        assert_eq!(refused, depth > 1000, "{depth}");
    }
    assert_eq!(
        attrs(&[], &[(":v", n("1"))])
            .condition(ExpressionKind::ConditionExpression, &format!("{}a{} = :v", "(".repeat(30), ")".repeat(30)))
            .map_err(|e| e.message),
        Err("Invalid ConditionExpression: The expression has redundant parentheses;".into())
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(2), "parsing took {:?}", start.elapsed());
}

#[test]
fn conditional_operator_needs_two_or_more_conditions() {
    let one: IndexMap<String, generated::ExpectedAttributeValue> =
        [("a".to_string(), expected_value(Some(s("x")), None, None, None))].into_iter().collect();
    assert_eq!(
        legacy::expected(one.clone(), Some("OR")).map(|_| ()).map_err(|e| e.message),
        Err("ConditionalOperator can only be used when Filter or Expected has two or more elements".into())
    );
    assert!(legacy::expected(one, None).is_ok());
    assert_eq!(
        legacy::filter(IndexMap::new(), Some("AND")).map(|_| ()).map_err(|e| e.message),
        Err("ConditionalOperator cannot be used without Filter or Expected".into())
    );
    assert_eq!(legacy::conditional_operator_without_conditions().message, "ConditionalOperator cannot be used without Filter or Expected");
}
