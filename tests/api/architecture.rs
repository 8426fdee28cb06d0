//! The structure of `src/`, read from its source: which file uses which (its `use` lines and the
//! `crate::`, `super::` and `self::` paths in its code, macros by where they are defined). Two rules hold:
//! no file reaches itself through a chain of such uses (a cycle makes two modules one, which neither
//! name says), and the layers point one way (`docs/architecture.md`): the plumbing below knows nothing
//! of what is built on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// File -> the files it uses, every path relative to the crate root (`src/cases/store.rs`).
type Graph = BTreeMap<String, BTreeSet<String>>;

struct Source {
    /// The module path of the file (`["cases", "store"]`; `[]` for `lib.rs`).
    module: Vec<String>,
    text: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its unit tests and comment lines (a doc comment's link is not a use).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_tree(src: &Path) -> BTreeMap<String, Source> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let mut out = BTreeMap::new();
    for path in paths {
        let rel = path.strip_prefix(src).unwrap().with_extension("");
        let mut module: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        let name = format!("src/{}", path.strip_prefix(src).unwrap().display());
        let text = code_of(&std::fs::read_to_string(&path).unwrap());
        out.insert(name, Source { module, text });
    }
    out
}

/// The inline `mod name { ... }` blocks of a file, as byte ranges.
fn inline_modules(text: &str) -> Vec<(usize, usize)> {
    let re = regex_lite::Regex::new(r"\bmod\s+\w+\s*\{").unwrap();
    re.find_iter(text)
        .map(|m| {
            let mut depth = 0;
            let mut end = text.len();
            for (i, c) in text[m.end() - 1..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = m.end() - 1 + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            (m.start(), end)
        })
        .collect()
}

/// Splits `a, b::{c, d}, e` at its top-level commas.
fn top_level_items(body: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0, 0, Vec::new());
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&body[start..]);
    out
}

/// The paths one `use` tree names: `crate::a::{b, c::{D, E}}` -> `crate::a::b`, `crate::a::c::D`, ...
fn use_paths(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(open) = tree.find("::{").filter(|_| tree.ends_with('}')) {
        let mut p = prefix.to_vec();
        p.extend(tree[..open].split("::").map(|s| s.trim().to_string()));
        for item in top_level_items(&tree[open + 3..tree.len() - 1]) {
            use_paths(&p, item, out);
        }
    } else if tree.starts_with('{') && tree.ends_with('}') {
        for item in top_level_items(&tree[1..tree.len() - 1]) {
            use_paths(prefix, item, out);
        }
    } else {
        let tree = tree.split(" as ").next().unwrap();
        let mut p = prefix.to_vec();
        p.extend(tree.split("::").map(|s| s.trim().to_string()));
        out.push(p);
    }
}

struct Resolver<'a> {
    modules: BTreeMap<Vec<String>, &'a str>,
    macros: BTreeMap<String, &'a str>,
}

impl Resolver<'_> {
    /// The file a path leads to from `module` (nested `depth` inline modules deep): the deepest module
    /// of the path that is a file.
    fn file(&self, module: &[String], depth: usize, path: &[String]) -> Option<&str> {
        let (first, rest) = path.split_first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => vec![],
            "self" => module.to_vec(),
            "super" => {
                // A `super` inside an inline module stays in this file.
                if depth > 0 {
                    return self.file(module, depth - 1, &[&["self".into()], rest].concat());
                }
                module[..module.len().checked_sub(1)?].to_vec()
            }
            _ => return None,
        };
        let mut rest = rest;
        while let Some(("super", tail)) = rest.split_first().map(|(h, t)| (h.as_str(), t)) {
            base.pop();
            rest = tail;
        }
        for segment in rest {
            base.push(segment.clone());
            if !self.modules.contains_key(&base) {
                base.pop();
                break;
            }
        }
        self.modules.get(&base).copied()
    }
}

fn graph_of(tree: &BTreeMap<String, Source>) -> Graph {
    let macro_def = regex_lite::Regex::new(r"macro_rules!\s+(\w+)").unwrap();
    let resolver = Resolver {
        modules: tree
            .iter()
            .filter(|(name, _)| !name.ends_with("main.rs"))
            .map(|(name, s)| (s.module.clone(), name.as_str()))
            .collect(),
        macros: tree
            .iter()
            .flat_map(|(name, s)| {
                macro_def
                    .captures_iter(&s.text)
                    .map(move |c| (c[1].to_string(), name.as_str()))
            })
            .collect(),
    };
    let use_stmt = regex_lite::Regex::new(r"\buse\s+((?:crate|super|self)\b[^;]*);").unwrap();
    let inline_path =
        regex_lite::Regex::new(r"(?:^|[^\w:])((?:crate|super|self)(?:::\w+)+)(!?)").unwrap();
    let mut graph = Graph::new();
    for (name, source) in tree {
        let blocks = inline_modules(&source.text);
        let depth_at = |pos: usize| blocks.iter().filter(|(a, b)| *a < pos && pos < *b).count();
        let mut paths: Vec<(Vec<String>, usize)> = Vec::new();
        for c in use_stmt.captures_iter(&source.text) {
            let mut found = Vec::new();
            use_paths(&[], &c[1], &mut found);
            let depth = depth_at(c.get(0).unwrap().start());
            paths.extend(found.into_iter().map(|p| (p, depth)));
        }
        let uses = graph.entry(name.clone()).or_default();
        for c in inline_path.captures_iter(&source.text) {
            let path: Vec<String> = c[1].split("::").map(String::from).collect();
            if &c[2] == "!" && path[0] == "crate" {
                if let Some(file) = resolver.macros.get(path.last().unwrap()) {
                    uses.insert(file.to_string());
                }
                continue;
            }
            paths.push((path, depth_at(c.get(1).unwrap().start())));
        }
        for (path, depth) in paths {
            if path.len() < 2 || (path[0] == "self" && depth > 0) {
                continue;
            }
            if let Some(file) = resolver.file(&source.module, depth, &path) {
                uses.insert(file.to_string());
            }
        }
        uses.remove(name);
    }
    graph
}

/// The strongly connected components of more than one file (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<BTreeSet<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

fn describe(graph: &Graph, component: &BTreeSet<String>) -> String {
    let mut out = format!("a cycle of {} files:\n", component.len());
    for a in component {
        for b in graph[a].iter().filter(|b| component.contains(*b)) {
            out += &format!("  {a} -> {b}\n");
        }
    }
    out
}

fn src_graph() -> Graph {
    graph_of(&read_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
    ))
}

#[test]
fn no_module_of_src_reaches_itself_through_its_imports() {
    let graph = src_graph();
    assert!(graph.len() > 50, "the tree was read: {} files", graph.len());
    let found = cycles(&graph);
    let report: Vec<String> = found.iter().map(|c| describe(&graph, c)).collect();
    assert!(found.is_empty(), "{}", report.join("\n"));
}

/// The top-level module of a file: `src/http/error.rs` -> `http`, `src/dates.rs` -> `dates`.
fn top(file: &str) -> &str {
    let rest = file.trim_start_matches("src/");
    rest.split(['/', '.']).next().unwrap()
}

/// What the plumbing may use: itself and the few plain types everything shares.
const BELOW: [&str; 8] = [
    "http",
    "db",
    "auth",
    "config",
    "national_id",
    "dates",
    "clock",
    "text_enum",
];

#[test]
fn the_plumbing_uses_nothing_that_is_built_on_it() {
    let graph = src_graph();
    let mut up = Vec::new();
    for (file, uses) in &graph {
        if ["http", "db", "auth"].contains(&top(file)) {
            for used in uses.iter().filter(|u| !BELOW.contains(&top(u))) {
                up.push(format!("  {file} -> {used}"));
            }
        }
    }
    assert!(
        up.is_empty(),
        "http/, db/ and auth/ know no resource, policy or job:\n{}",
        up.join("\n")
    );
}

#[test]
fn stores_rules_and_api_types_never_ask_the_policy_or_a_handler() {
    let graph = src_graph();
    let low = |f: &str| {
        ["store.rs", "rules.rs", "api.rs"]
            .iter()
            .any(|n| f.ends_with(n))
    };
    let high = |f: &str| top(f) == "policy" || f.ends_with("handlers.rs");
    let mut up = Vec::new();
    for (file, uses) in graph.iter().filter(|(f, _)| low(f)) {
        for used in uses.iter().filter(|u| high(u)) {
            up.push(format!("  {file} -> {used}"));
        }
    }
    for (file, uses) in graph.iter().filter(|(f, _)| top(f) == "policy") {
        for used in uses.iter().filter(|u| u.ends_with("handlers.rs")) {
            up.push(format!("  {file} -> {used}"));
        }
    }
    assert!(
        up.is_empty(),
        "a store, rule or API type asks the policy or a handler, or the policy a handler:\n{}",
        up.join("\n")
    );
}

/// The reader itself, on a small tree written for the purpose: it must see a cycle through a `use` tree,
/// a `super::` path and a macro, and none where there is none.
#[test]
fn the_import_reader_finds_a_cycle_through_use_trees_super_paths_and_macros() {
    let dir = std::env::temp_dir().join(format!("arch-{}", uuid::Uuid::now_v7().simple()));
    let write = |path: &str, text: &str| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub mod m;\n");
    write("a/mod.rs", "pub mod x;\npub mod y;\n");
    write("a/x.rs", "use crate::{b::{self, B}, m};\n");
    write(
        "a/y.rs",
        "// use crate::a::x; is only a comment\nfn f() {}\n",
    );
    write("b.rs", "pub struct B;\nfn g() { crate::made!(); }\n");
    write(
        "m.rs",
        "#[macro_export]\nmacro_rules! made { () => {} }\nuse super::a::y;\n",
    );
    let graph = graph_of(&read_tree(&dir));
    assert!(cycles(&graph).is_empty(), "{graph:?}");
    assert!(graph["src/a/x.rs"].contains("src/b.rs"), "{graph:?}");
    assert!(graph["src/a/x.rs"].contains("src/m.rs"), "{graph:?}");
    assert!(graph["src/b.rs"].contains("src/m.rs"), "{graph:?}");
    assert!(!graph["src/a/y.rs"].contains("src/a/x.rs"), "{graph:?}");
    // y now uses x back through `super::`: x -> m -> y -> x, and x -> b -> m joins it.
    write("a/y.rs", "fn f() { super::x::run(); }\n");
    let graph = graph_of(&read_tree(&dir));
    let found = cycles(&graph);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{graph:?}");
    assert_eq!(
        found[0],
        BTreeSet::from(["src/a/x.rs", "src/a/y.rs", "src/b.rs", "src/m.rs"].map(String::from)),
        "{graph:?}"
    );
}

/// A statement that reads or writes rows, in code: the query builder on a table, an insert, update or
/// delete, raw SQL, or a prepared statement.
fn sql_in(code: &str) -> Vec<String> {
    let statement = regex_lite::Regex::new(
        r"\b\w+::table\b|\binsert_into\b|diesel::update\b|diesel::delete\b|\bsql_query\b|prepared_statement!",
    )
    .unwrap();
    statement
        .find_iter(code)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// The files of `tree` that hold SQL, with what was found.
fn files_with_sql(
    tree: &BTreeMap<String, Source>,
    pick: impl Fn(&str) -> bool,
) -> BTreeMap<&str, Vec<String>> {
    tree.iter()
        .filter(|(name, _)| pick(name))
        .map(|(name, s)| (name.as_str(), sql_in(&s.text)))
        .filter(|(_, found)| !found.is_empty())
        .collect()
}

fn src_tree() -> BTreeMap<String, Source> {
    read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn a_handler_leaves_its_sql_to_the_store() {
    let tree = src_tree();
    let found = files_with_sql(&tree, |f| f.ends_with("/handlers.rs"));
    assert!(
        found.is_empty(),
        "a handler queries the database itself (move it into its folder's store.rs): {found:?}"
    );
}

#[test]
fn the_import_writes_through_the_stores() {
    let tree = src_tree();
    let found = files_with_sql(&tree, |f| f.starts_with("src/documents/import/"));
    assert!(
        found.is_empty(),
        "the import reads or writes rows itself instead of through a store: {found:?}"
    );
    assert!(
        tree.keys().any(|f| f.starts_with("src/documents/import/")),
        "the import was read"
    );
}

#[test]
fn no_resource_keeps_its_rows_in_a_model_file() {
    let models: Vec<_> = src_tree()
        .into_keys()
        .filter(|f| f.ends_with("/model.rs"))
        .collect();
    assert!(
        models.is_empty(),
        "row structs belong in the folder's store.rs: {models:?}"
    );
}

#[test]
fn the_sql_finder_sees_each_kind_of_statement_and_nothing_else() {
    for code in [
        "cases::table.filter(x)",
        "diesel::insert_into(t)",
        "diesel::update(t)",
        "diesel::delete(t)",
        "diesel::sql_query(\"SELECT 1\")",
        "crate::prepared_statement! { }",
    ] {
        assert_eq!(sql_in(code).len(), 1, "{code}");
    }
    for code in [
        "store::update(conn, id, &changes)",
        "rows.iter().filter(|r| r.active)",
        "use diesel::PgConnection;",
        "let table = 3;",
    ] {
        assert!(sql_in(code).is_empty(), "{code}: {:?}", sql_in(code));
    }
}
