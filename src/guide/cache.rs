//! The public guide, rendered once per municipality and kept in this process, so a request for an
//! unchanged guide costs no database round trip.
//!
//! Several instances share one database, so memory is never trusted for long: an entry is used for at most
//! [`FRESH_FOR`] after it was loaded (well inside the `max-age` clients are told), and a publish, a
//! changed service or a renamed level drops the municipality's entry at once: on this instance directly,
//! on the others when the database's notification arrives (crate::db::listen, in milliseconds). A lost
//! notification leaves an old version served for at most `FRESH_FOR`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::api::{PublicGuide, PublicService};
use super::document::{Audience, GuideDocument, Lang};
use super::rules;
use crate::db::session::Municipality;

/// How long an entry is served without asking the database again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);
/// What clients and shared caches are told (`Cache-Control: public, max-age=60`).
pub const MAX_AGE_SECONDS: u32 = 60;

/// One answer, ready to send: the JSON body and its strong ETag (a hash of the body, so every instance
/// gives the same answer the same tag and a client's `If-None-Match` works across them).
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    pub etag: String,
}

impl Rendered {
    pub fn new(body: Vec<u8>) -> Rendered {
        let digest = Sha256::digest(&body);
        let etag = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Rendered {
            body: Bytes::from(body),
            etag,
        }
    }
}

/// Everything the public endpoints of one municipality serve.
#[derive(Debug)]
pub struct Published {
    pub version: i32,
    /// Each (audience, language) the guide can be read in.
    pages: HashMap<(Audience, Lang), Rendered>,
    /// The whole document, for another municipality to import.
    pub document: Rendered,
}

impl Published {
    pub fn build(
        municipality: Municipality,
        version: i32,
        published_at: Option<DateTime<Utc>>,
        doc: &GuideDocument,
        level_names: &[String; 4],
        services: Vec<PublicService>,
    ) -> Published {
        let mut pages = HashMap::new();
        for audience in [Audience::Employee, Audience::Adult, Audience::Youth] {
            for lang in [Lang::Nb, Lang::Nn] {
                let page = PublicGuide {
                    municipality: municipality.to_string(),
                    version,
                    published_at,
                    lang,
                    audience,
                    levels: rules::render(doc, level_names, audience, lang),
                    services: services.clone(),
                };
                let body = serde_json::to_vec(&page).expect("the guide serializes");
                pages.insert((audience, lang), Rendered::new(body));
            }
        }
        let document = Rendered::new(serde_json::to_vec(doc).expect("the guide serializes"));
        Published {
            version,
            pages,
            document,
        }
    }

    pub fn page(&self, audience: Audience, lang: Lang) -> &Rendered {
        &self.pages[&(audience, lang)]
    }
}

#[derive(Clone)]
struct Entry {
    loaded: Instant,
    published: Arc<Published>,
}

/// At most one entry per municipality (4-digit numbers: at most 10,000, each a few tens of kilobytes).
#[derive(Default)]
pub struct GuideCache {
    entries: RwLock<HashMap<Municipality, Entry>>,
    /// Bumped by every invalidation: a load that started before one must not store what it read.
    generation: AtomicU64,
}

impl GuideCache {
    /// The municipality's guide if it was loaded less than [`FRESH_FOR`] ago.
    pub fn fresh(&self, m: Municipality) -> Option<Arc<Published>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&m)
            .filter(|e| e.loaded.elapsed() < FRESH_FOR)
            .map(|e| e.published.clone())
    }

    /// Taken before loading; pass to [`GuideCache::store`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps what a load read, unless something was invalidated while it read.
    pub fn store(&self, m: Municipality, generation: u64, published: Arc<Published>) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            entries.insert(
                m,
                Entry {
                    loaded: Instant::now(),
                    published,
                },
            );
        }
    }

    /// The municipality's guide changed here (published, a service or level renamed): the next request
    /// reads it again.
    pub fn invalidate(&self, m: Municipality) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(&m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guide::document::default_document;

    fn published(version: i32) -> Arc<Published> {
        let names = ["a", "b", "c", "d"].map(String::from);
        Arc::new(Published::build(
            Municipality::parse("3805").unwrap(),
            version,
            None,
            default_document(),
            &names,
            vec![],
        ))
    }

    #[test]
    fn an_invalidation_during_a_load_keeps_the_loaded_guide_out() {
        let cache = GuideCache::default();
        let m = Municipality::parse("3805").unwrap();
        let generation = cache.generation();
        cache.invalidate(m);
        cache.store(m, generation, published(1));
        assert!(cache.fresh(m).is_none());
        cache.store(m, cache.generation(), published(2));
        assert_eq!(cache.fresh(m).unwrap().version, 2);
        cache.invalidate(m);
        assert!(cache.fresh(m).is_none());
    }

    #[test]
    fn every_audience_and_language_has_its_own_page_and_tag() {
        let p = published(1);
        let tags: std::collections::HashSet<_> =
            [Audience::Employee, Audience::Adult, Audience::Youth]
                .into_iter()
                .flat_map(|a| [Lang::Nb, Lang::Nn].map(|l| p.page(a, l).etag.clone()))
                .collect();
        assert_eq!(tags.len(), 6);
    }
}
