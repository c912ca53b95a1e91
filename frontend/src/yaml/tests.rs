use proptest::prelude::*;
use serde_json::{Value, json};

use super::to_string;

/// What a YAML parser reads back (serde_yaml's libyaml-based one; the strings a YAML 1.1
/// parser would read otherwise are quoted, which `quoted_as_yaml_1_1_needs` checks).
fn read_back(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}:\n{yaml}"))
}

#[test]
fn objects_read_as_kubectl_writes_them() {
    let object = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {}},
        "spec": {
            "containers": [
                {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}],
                 "args": ["-c", "echo hi"]},
            ],
            "tolerations": [],
            "nested": [[1, 2], []],
        },
    });
    let yaml = to_string(&object);
    assert_eq!(
        yaml,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  annotations: {}\n  labels:\n    app: web\n  \
         name: web\nspec:\n  containers:\n  - args:\n    - '-c'\n    - echo hi\n    image: \
         nginx:1.27\n    name: web\n    ports:\n    - containerPort: 80\n  nested:\n  - - 1\n    \
         - 2\n  - []\n  tolerations: []\n"
    );
    assert_eq!(read_back(&yaml), object);
}

#[test]
fn text_keeps_its_lines_and_its_final_line_feeds() {
    for text in [
        "one\ntwo",
        "one\ntwo\n",
        "one\n\ntwo\n\n\n",
        "\n\nafter empty lines",
        "  indented first line\nsecond",
        "\n",
        "\n\n",
        "tab\tand trailing space \nnext",
        "{\"json\":\"last-applied\"}\n",
        "---\n...\n# not a comment\n- not a list",
    ] {
        let value = json!({"data": {"script": text}, "list": [text, {"k": text}]});
        let yaml = to_string(&value);
        assert_eq!(read_back(&yaml), value, "{yaml}");
        assert_eq!(read_back(&to_string(&json!(text))), json!(text));
    }
}

#[test]
fn quoted_as_yaml_1_1_needs() {
    for word in [
        "",
        "y",
        "Yes",
        "NO",
        "on",
        "Off",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "<<",
        "=",
        "1",
        "0777",
        "0x1f",
        "1e3",
        "1_000",
        "12:30",
        "2026-12-02",
        ".5",
        ".inf",
        "-.inf",
        "+1",
        "- item",
        "? key",
        ": x",
        "#comment",
        "a #comment",
        "key: value",
        "ends:",
        "&anchor",
        "*alias",
        "!tag",
        "|",
        ">",
        "'",
        "\"",
        "%",
        "@",
        "`",
        " padded",
        "padded ",
    ] {
        let yaml = to_string(&json!({ word: word }));
        assert!(
            !yaml.starts_with(&format!("{word}:")) || word.is_empty(),
            "{word:?} is bare: {yaml}"
        );
        assert_eq!(read_back(&yaml), json!({ word: word }), "{yaml}");
    }
    // Ordinary names stay bare, as people write them.
    assert_eq!(
        to_string(&json!({"image": "registry.example/app:v1.2", "key": "a-b_c.d/e"})),
        "image: registry.example/app:v1.2\nkey: a-b_c.d/e\n"
    );
}

#[test]
fn controls_and_line_separators_are_escaped() {
    for text in [
        "bell\u{7}",
        "nel\u{85}",
        "ls\u{2028}ps\u{2029}",
        "cr\r\nlf",
        "bom\u{feff}",
        "\u{10ffff}\u{fffe}",
    ] {
        let yaml = to_string(&json!({"k": text}));
        assert!(yaml.starts_with("k: \""), "{yaml}");
        assert!(yaml.is_ascii() || !text.contains('\u{2028}'), "{yaml}");
        assert_eq!(read_back(&yaml), json!({"k": text}), "{yaml}");
    }
}

#[test]
fn numbers_read_back_as_numbers_in_yaml_1_1() {
    assert_eq!(
        to_string(&json!([1, -2, 0.5, 1e20, 1.5e-7])),
        "- 1\n- -2\n- 0.5\n- 1.0e+20\n- 1.5e-7\n"
    );
    assert_eq!(to_string(&json!(null)), "null\n");
    assert_eq!(to_string(&json!({})), "{}\n");
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
        "[ -~\n\t]{0,16}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[ -~\n]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn any_value_reads_back_as_itself(value in any_value()) {
        let yaml = to_string(&value);
        prop_assert_eq!(read_back(&yaml), value, "{}", yaml);
    }
}
