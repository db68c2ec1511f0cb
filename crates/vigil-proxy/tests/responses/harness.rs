//! A throw-away cluster with a small table, the proxy in front of it on
//! 127.0.0.1:0 with test hooks, and a way to reach it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use vigil_core::{ConnectionInfo, Principal, PrincipalKind};
use vigil_pgtemp::{ClusterOptions, TempCluster};
use vigil_proxy::auth::{AuthFailure, TokenVerifier, VerifyFuture};
use vigil_proxy::{Proxy, ProxySettings, ResponseHookFactory, StatementHook, Target, UpstreamTls};

pub const USER: &str = "tester";
pub const TOKEN: &str = "test-token";

/// Accepts exactly [`TOKEN`].
struct FixedToken;

impl TokenVerifier for FixedToken {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            if token != TOKEN {
                return Err(AuthFailure("bad token".into()));
            }
            Ok(Principal {
                subject: USER.into(),
                email: None,
                groups: vec![],
                issuer: "test".into(),
                token_id: None,
                expires_at: i64::MAX / 2,
                kind: PrincipalKind::Human,
            })
        })
    }
}

pub struct Stack {
    pub cluster: TempCluster,
    pub rt: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Stack {
    /// People 97 (alice), 98 (bob) and 99 (a poisoned email the test hook
    /// refuses to mask), and an empty `marks` table.
    pub fn start(
        hook: Arc<dyn StatementHook>,
        responses: Option<Arc<dyn ResponseHookFactory>>,
    ) -> Stack {
        let cluster = TempCluster::start(ClusterOptions::default()).expect("cluster");
        cluster
            .psql(
                "postgres",
                "CREATE TABLE people (id int PRIMARY KEY, email text, note varchar(40));
                 INSERT INTO people VALUES (97, 'alice@example.com', 'first'),
                   (98, 'bob@example.com', NULL), (99, 'poison@example.com', 'bad');
                 CREATE TABLE marks (n int, label text);",
            )
            .expect("schema");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let target = Target {
            info: ConnectionInfo {
                name: "app".into(),
                engine: "postgres".into(),
                environment: "dev".into(),
                ..ConnectionInfo::default()
            },
            host: "127.0.0.1".into(),
            port: cluster.port(),
            database: "postgres".into(),
            user: "postgres".into(),
            password: None,
            tls: UpstreamTls::Disable,
        };
        let proxy = rt
            .block_on(Proxy::bind_with_responses(
                ProxySettings::default(),
                vec![target],
                Arc::new(FixedToken),
                hook,
                responses,
            ))
            .expect("bind");
        let addr = proxy.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        rt.spawn(proxy.run(async move {
            let _ = stopped.await;
        }));
        Stack {
            cluster,
            rt,
            addr,
            stop: Some(stop),
        }
    }

    pub fn dsn(&self) -> String {
        format!(
            "host=127.0.0.1 port={} dbname=app user={USER} password={TOKEN} sslmode=disable",
            self.addr.port()
        )
    }

    pub fn url(&self) -> String {
        format!(
            "postgresql://{USER}:{TOKEN}@127.0.0.1:{}/app?sslmode=disable",
            self.addr.port()
        )
    }

    /// SQL straight to the server (set-up and checks).
    pub fn admin(&self, sql: &str) -> String {
        self.cluster.psql("postgres", sql).expect("admin sql")
    }

    pub fn raw(&self) -> crate::raw::Raw {
        crate::raw::Raw::login(self.addr.port())
    }

    /// A tokio-postgres client through the proxy; call inside `rt`.
    pub async fn driver(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.dsn(), tokio_postgres::NoTls)
            .await
            .expect("driver connects");
        tokio::spawn(conn);
        client
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
