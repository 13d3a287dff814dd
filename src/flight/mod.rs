//! `cohort serve`: the cohort session over Arrow Flight SQL, for BI tools and ADBC / JDBC
//! clients.
//!
//! A thin adapter over arrow-flight's [`FlightSqlService`]: every statement, the model
//! statements included, goes through [`CohortSession`], so a Flight SQL client sees the same
//! functions, models and tables as the REPL. Bearer-token authentication is a tonic
//! interceptor ([`auth`]) that rejects a call before any SQL is parsed; `--read-only` is checked
//! on the parsed statement and, for DataFusion statements, on the plan ([`policy`]).
//!
//! A statement runs exactly once: when the client asks for its `FlightInfo` (plain or
//! prepared). Queries are planned then and streamed by `DoGet`; model statements and DDL take
//! effect then. Prepared statements only parse and plan, never execute.
//! (`datafusion-flight-sql-server` plans through DataFusion's parser only, so it cannot run
//! `CREATE MODEL`; this module implements the service directly.)

pub mod auth;
pub mod policy;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightServiceServer;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandPreparedStatementUpdate, CommandStatementQuery, CommandStatementUpdate,
    DoPutPreparedStatementResult, ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc,
    Ticket,
};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use datafusion::common::{DataFusionError, ParamValues, ScalarValue};
use datafusion::prelude::DataFrame;
use futures::{Stream, TryStreamExt};
use prost::Message;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use crate::session::CohortSession;
use crate::statements::{self, CohortStatement};

/// How long an unread result or an unused prepared statement is kept.
const KEEP: Duration = Duration::from_secs(15 * 60);
/// At most this many pending results and prepared statements each.
const MAX_PENDING: usize = 10_000;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The bearer token clients must send; `None` disables authentication.
    pub token: Option<String>,
    /// Refuse statements that write.
    pub read_only: bool,
}

/// The Flight SQL service over one shared [`CohortSession`].
pub struct CohortFlightSql {
    session: CohortSession,
    read_only: bool,
    next_id: AtomicU64,
    /// Results planned by GetFlightInfo, waiting for DoGet.
    results: Mutex<HashMap<u64, (Instant, DataFrame)>>,
    /// Prepared statements: SQL and bound parameters.
    prepared: Mutex<HashMap<u64, (Instant, Prepared)>>,
    sql_info: SqlInfoData,
}

#[derive(Debug, Clone)]
struct Prepared {
    sql: String,
    params: Option<ParamValues>,
}

type FlightStream = Pin<Box<dyn Stream<Item = Result<FlightData, Status>> + Send + 'static>>;

/// A DataFusion error as a Flight status, with DataFusion's message.
pub fn status(e: DataFusionError) -> Status {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(_) => Status::resource_exhausted(e.to_string()),
        DataFusionError::Internal(_) | DataFusionError::IoError(_) => {
            Status::internal(e.to_string())
        }
        _ => Status::invalid_argument(e.to_string()),
    }
}

fn flight_status(e: FlightError) -> Status {
    match e {
        FlightError::Tonic(s) => *s,
        other => Status::invalid_argument(other.to_string()),
    }
}

fn handle_bytes(id: u64) -> Vec<u8> {
    id.to_be_bytes().to_vec()
}

fn handle_id(bytes: &[u8]) -> Result<u64, Status> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| Status::invalid_argument("unknown statement handle"))
}

fn schema_bytes(schema: &Schema) -> Result<Vec<u8>, Status> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Keeps at most `MAX_PENDING` young entries.
fn prune<T>(map: &mut HashMap<u64, (Instant, T)>) {
    map.retain(|_, (t, _)| t.elapsed() < KEEP);
    while map.len() >= MAX_PENDING {
        let Some(oldest) = map.iter().min_by_key(|(_, (t, _))| *t).map(|(k, _)| *k) else {
            break;
        };
        map.remove(&oldest);
    }
}

/// Parameters bound to a prepared statement: one row, columns named `$1`, `1` or `0`, ... for
/// positions (ADBC sends `0`, `1`, ...), or other names for named parameters.
fn params_from_batch(batch: &RecordBatch) -> Result<ParamValues, Status> {
    if batch.num_rows() != 1 {
        return Err(Status::invalid_argument(format!(
            "prepared statement parameters must be one row; got {}",
            batch.num_rows()
        )));
    }
    let mut named = vec![];
    for (i, f) in batch.schema().fields().iter().enumerate() {
        let value = ScalarValue::try_from_array(batch.column(i), 0).map_err(status)?;
        named.push((f.name().trim_start_matches('$').to_string(), value));
    }
    let positional: Option<Vec<(usize, ScalarValue)>> = named
        .iter()
        .map(|(n, v)| n.parse().ok().map(|p| (p, v.clone())))
        .collect();
    Ok(match positional {
        // ADBC numbers from 0, `$n` placeholders from 1: either way, order by the number
        Some(mut values) => {
            values.sort_by_key(|(p, _)| *p);
            ParamValues::List(values.into_iter().map(|(_, v)| v.into()).collect())
        }
        None => ParamValues::Map(named.into_iter().map(|(n, v)| (n, v.into())).collect()),
    })
}

impl CohortFlightSql {
    /// A service over `session`.
    pub fn new(session: CohortSession, read_only: bool) -> Result<Self, DataFusionError> {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "cohort");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, "59");
        info.append(SqlInfo::FlightSqlServerReadOnly, read_only);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(SqlInfo::FlightSqlServerTransaction, 0i32);
        let sql_info = info
            .build()
            .map_err(|e| DataFusionError::Internal(format!("Flight SQL info: {e}")))?;
        Ok(Self {
            session,
            read_only,
            next_id: AtomicU64::new(1),
            results: Mutex::new(HashMap::new()),
            prepared: Mutex::new(HashMap::new()),
            sql_info,
        })
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs one statement: plans a query (executed by DoGet) or executes anything else.
    async fn run(&self, sql: &str, params: Option<ParamValues>) -> Result<DataFrame, Status> {
        let statement = statements::parse_one(sql).map_err(status)?;
        if self.read_only {
            policy::check_statement(&statement).map_err(status)?;
        }
        match statement {
            CohortStatement::DataFusion(s) => {
                let ctx = self.session.context();
                let mut plan = ctx.state().statement_to_plan(*s).await.map_err(status)?;
                if self.read_only {
                    policy::check_plan(&plan).map_err(status)?;
                }
                if let Some(p) = params {
                    plan = plan.with_param_values(p).map_err(status)?;
                }
                ctx.execute_logical_plan(plan).await.map_err(status)
            }
            other => {
                if params.is_some() {
                    return Err(Status::invalid_argument(
                        "model statements take no parameters",
                    ));
                }
                self.session.execute(other).await.map_err(status)
            }
        }
    }

    /// The FlightInfo of a statement that was run: its schema and a ticket for DoGet.
    fn pending(&self, df: DataFrame, descriptor: FlightDescriptor) -> Result<FlightInfo, Status> {
        let schema: Schema = df.schema().as_arrow().clone();
        let id = self.id();
        if let Ok(mut results) = self.results.lock() {
            prune(&mut results);
            results.insert(id, (Instant::now(), df));
        }
        let ticket = TicketStatementQuery {
            statement_handle: handle_bytes(id).into(),
        };
        let ticket = Ticket {
            ticket: ticket.as_any().encode_to_vec().into(),
        };
        FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(e.to_string()))
            .map(|i| {
                i.with_endpoint(FlightEndpoint::new().with_ticket(ticket))
                    .with_descriptor(descriptor)
            })
    }

    fn prepared(&self, handle: &[u8]) -> Result<Prepared, Status> {
        let id = handle_id(handle)?;
        self.prepared
            .lock()
            .ok()
            .and_then(|p| p.get(&id).map(|(_, s)| s.clone()))
            .ok_or_else(|| {
                Status::invalid_argument("unknown or expired prepared statement; prepare it again")
            })
    }

    /// Runs a statement to completion and returns the rows it changed (-1 when unknown).
    async fn update(&self, sql: &str, params: Option<ParamValues>) -> Result<i64, Status> {
        let batches = self
            .run(sql, params)
            .await?
            .collect()
            .await
            .map_err(status)?;
        let count = batches.iter().find(|b| b.num_rows() == 1).and_then(|b| {
            let c = b.column_by_name("count")?;
            let c = cast(c, &DataType::UInt64).ok()?;
            let c = c.as_primitive_opt::<UInt64Type>()?;
            c.is_valid(0).then(|| c.value(0) as i64)
        });
        Ok(count.unwrap_or(-1))
    }

    fn batch_stream(schema: SchemaRef, batch: Result<RecordBatch, FlightError>) -> FlightStream {
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(futures::stream::once(async move { batch }))
            .map_err(flight_status);
        Box::pin(stream)
    }

    fn info_for<C: ProstMessageExt + Clone>(
        cmd: &C,
        schema: &Schema,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let ticket = Ticket {
            ticket: cmd.as_any().encode_to_vec().into(),
        };
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(e.to_string()))?
            .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }

    /// Every (catalog, schema, table, type) of the session.
    async fn tables(
        &self,
        with_schema: bool,
    ) -> Result<Vec<(String, String, String, String, SchemaRef)>, Status> {
        let ctx = self.session.context();
        let mut out = vec![];
        for catalog_name in ctx.catalog_names() {
            let Some(catalog) = ctx.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    let (kind, table_schema) =
                        match schema.table(&table_name).await.map_err(status)? {
                            Some(t) => (
                                t.table_type().to_string(),
                                if with_schema {
                                    t.schema()
                                } else {
                                    Arc::new(Schema::empty())
                                },
                            ),
                            None => continue,
                        };
                    out.push((
                        catalog_name.clone(),
                        schema_name.clone(),
                        table_name,
                        kind,
                        table_schema,
                    ));
                }
            }
        }
        out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
        Ok(out)
    }
}

#[tonic::async_trait]
impl FlightSqlService for CohortFlightSql {
    type FlightService = CohortFlightSql;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let df = self.run(&query.query, None).await?;
        Ok(Response::new(self.pending(df, request.into_inner())?))
    }

    async fn get_flight_info_prepared_statement(
        &self,
        cmd: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let p = self.prepared(&cmd.prepared_statement_handle)?;
        let df = self.run(&p.sql, p.params).await?;
        Ok(Response::new(self.pending(df, request.into_inner())?))
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<FlightStream>, Status> {
        let id = handle_id(&ticket.statement_handle)?;
        let df = self
            .results
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&id))
            .map(|(_, df)| df)
            .ok_or_else(|| {
                Status::not_found("unknown or already read result; run the statement again")
            })?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let stream = df.execute_stream().await.map_err(status)?;
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(stream.map_err(|e| FlightError::from_external_error(Box::new(e))))
            .map_err(|e| match e {
                FlightError::ExternalError(inner) => match inner.downcast::<DataFusionError>() {
                    Ok(df) => status(*df),
                    Err(other) => Status::internal(other.to_string()),
                },
                other => flight_status(other),
            });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let statement = statements::parse_one(&query.query).map_err(status)?;
        if self.read_only {
            policy::check_statement(&statement).map_err(status)?;
        }
        // Queries are planned for their schemas; other statements run later, at execution.
        let (dataset, parameters) = match &statement {
            CohortStatement::DataFusion(s) if policy::is_query(s) => {
                let plan = self
                    .session
                    .context()
                    .state()
                    .statement_to_plan((**s).clone())
                    .await
                    .map_err(status)?;
                let mut params: Vec<(usize, String, DataType)> = plan
                    .get_parameter_types()
                    .map_err(status)?
                    .into_iter()
                    .map(|(name, dt)| {
                        let pos = name.trim_start_matches('$').parse().unwrap_or(usize::MAX);
                        (pos, name, dt.unwrap_or(DataType::Null))
                    })
                    .collect();
                params.sort();
                let fields: Vec<Field> = params
                    .into_iter()
                    .map(|(_, name, dt)| Field::new(name, dt, true))
                    .collect();
                (plan.schema().as_arrow().clone(), Schema::new(fields))
            }
            _ => (Schema::empty(), Schema::empty()),
        };
        let id = self.id();
        if let Ok(mut p) = self.prepared.lock() {
            prune(&mut p);
            p.insert(
                id,
                (
                    Instant::now(),
                    Prepared {
                        sql: query.query.clone(),
                        params: None,
                    },
                ),
            );
        }
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle_bytes(id).into(),
            dataset_schema: schema_bytes(&dataset)?.into(),
            parameter_schema: schema_bytes(&parameters)?.into(),
        })
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let id = handle_id(&query.prepared_statement_handle)?;
        let stream = request.into_inner().map_err(FlightError::from);
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(stream)
            .try_collect()
            .await
            .map_err(flight_status)?;
        let batch = match batches.iter().filter(|b| b.num_rows() > 0).count() {
            0 => None,
            1 => batches.into_iter().find(|b| b.num_rows() > 0),
            n => {
                return Err(Status::invalid_argument(format!(
                    "prepared statement parameters must be one row; got {n} batches"
                )))
            }
        };
        let params = batch.as_ref().map(params_from_batch).transpose()?;
        let mut map = self
            .prepared
            .lock()
            .map_err(|_| Status::internal("prepared statements lock poisoned"))?;
        let Some((t, p)) = map.get_mut(&id) else {
            return Err(Status::invalid_argument(
                "unknown or expired prepared statement; prepare it again",
            ));
        };
        *t = Instant::now();
        p.params = params;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(handle_bytes(id).into()),
        })
    }

    async fn do_put_statement_update(
        &self,
        cmd: CommandStatementUpdate,
        _request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        self.update(&cmd.query, None).await
    }

    async fn do_put_prepared_statement_update(
        &self,
        cmd: CommandPreparedStatementUpdate,
        _request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let p = self.prepared(&cmd.prepared_statement_handle)?;
        self.update(&p.sql, p.params).await
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        if let (Ok(id), Ok(mut p)) = (
            handle_id(&query.prepared_statement_handle),
            self.prepared.lock(),
        ) {
            p.remove(&id);
        }
        Ok(())
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        Self::info_for(&query, &schema, request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<FlightStream>, Status> {
        let mut b = query.into_builder();
        let mut names = self.session.context().catalog_names();
        names.sort();
        for c in names {
            b.append(c);
        }
        let schema = b.schema();
        Ok(Response::new(Self::batch_stream(schema, b.build())))
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        Self::info_for(&query, &schema, request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<FlightStream>, Status> {
        let mut b = query.into_builder();
        let ctx = self.session.context();
        let mut names = ctx.catalog_names();
        names.sort();
        for c in names {
            if let Some(catalog) = ctx.catalog(&c) {
                let mut schemas = catalog.schema_names();
                schemas.sort();
                for s in schemas {
                    b.append(&c, s);
                }
            }
        }
        let schema = b.schema();
        Ok(Response::new(Self::batch_stream(schema, b.build())))
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        Self::info_for(&query, &schema, request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<FlightStream>, Status> {
        let tables = self.tables(query.include_schema).await?;
        let mut b = query.into_builder();
        for (c, s, t, kind, schema) in tables {
            b.append(c, s, t, kind, &schema)
                .map_err(|e| Status::internal(e.to_string()))?;
        }
        let schema = b.schema();
        Ok(Response::new(Self::batch_stream(schema, b.build())))
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        Self::info_for(&query, &schema, request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<FlightStream>, Status> {
        let mut b = query.into_builder();
        for t in ["BASE TABLE", "LOCAL TEMPORARY", "VIEW"] {
            b.append(t);
        }
        let schema = b.schema();
        Ok(Response::new(Self::batch_stream(schema, b.build())))
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&self.sql_info).schema();
        Self::info_for(&query, &schema, request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<FlightStream>, Status> {
        let b = query.into_builder(&self.sql_info);
        let schema = b.schema();
        Ok(Response::new(Self::batch_stream(schema, b.build())))
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// Serves `session` on `listener` until `shutdown` resolves. Returns when the server stopped.
pub async fn serve(
    session: CohortSession,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DataFusionError> {
    let service = CohortFlightSql::new(session, options.read_only)?;
    let interceptor = auth::BearerAuth::new(options.token);
    let server = FlightServiceServer::new(service)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    let server = tonic::service::interceptor::InterceptedService::new(server, interceptor);
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(server)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| DataFusionError::External(Box::new(e)))
}

/// Binds `addr`, refusing non-loopback addresses when authentication is off.
pub async fn bind(
    addr: SocketAddr,
    authenticated: bool,
) -> Result<tokio::net::TcpListener, DataFusionError> {
    if !authenticated && !addr.ip().is_loopback() {
        return Err(DataFusionError::Plan(format!(
            "cohort serve: --insecure-no-auth only binds to a loopback address (127.0.0.1 or ::1); got {addr}. Give a token with --token-file or $COHORT_TOKEN to serve other hosts"
        )));
    }
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        DataFusionError::Execution(format!("cohort serve: cannot listen on {addr}: {e}"))
    })
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed by this call, not when the future
/// is first polled, so a signal sent as soon as the server says it is listening stops it
/// cleanly instead of killing the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async fn recv(s: Option<Signal>) {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        async move {
            tokio::select! {
                _ = recv(term) => {},
                _ = recv(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
