//! Parsing of the model statements on top of DataFusion's SQL parser.
//!
//! `CREATE [OR REPLACE] MODEL [IF NOT EXISTS] name OPTIONS (k = v, ...) AS <query>`,
//! `SHOW MODELS`, `DESCRIBE MODEL name` and `DROP MODEL [IF EXISTS] name` are recognised from
//! their leading tokens; every other statement is parsed by [`DFParser`] unchanged.

use std::collections::BTreeMap;

use datafusion::common::{plan_err, DataFusionError, Result};
use datafusion::sql::parser::{DFParser, DFParserBuilder, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, Ident, Query, UnaryOperator, Value};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::ParserError;
use datafusion::sql::sqlparser::tokenizer::Token;

/// `CREATE MODEL`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateModel {
    /// Model name, lower-cased unless quoted.
    pub name: String,
    /// `OR REPLACE`.
    pub or_replace: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// Options, keys lower-cased, values as text.
    pub options: BTreeMap<String, String>,
    /// The training query.
    pub query: Box<Query>,
}

/// A statement of the cohort dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum CohortStatement {
    /// `CREATE MODEL`.
    CreateModel(CreateModel),
    /// `SHOW MODELS`.
    ShowModels,
    /// `DESCRIBE MODEL name`.
    DescribeModel {
        /// Model name.
        name: String,
    },
    /// `DROP MODEL [IF EXISTS] name`.
    DropModel {
        /// Model name.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// Anything else, for DataFusion.
    DataFusion(Box<DFStatement>),
}

/// A statement and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    /// The statement.
    pub statement: CohortStatement,
    /// First line of the statement in the parsed text.
    pub line: u64,
}

fn sql_err(e: ParserError) -> DataFusionError {
    DataFusionError::SQL(Box::new(e), None)
}

fn word_is(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.value.eq_ignore_ascii_case(word) && w.quote_style.is_none())
}

fn ident_name(id: Ident) -> String {
    if id.quote_style.is_some() {
        id.value
    } else {
        id.value.to_ascii_lowercase()
    }
}

/// Parses SQL text holding one or more statements separated by semicolons.
pub fn parse_sql(sql: &str) -> Result<Vec<ParsedStatement>> {
    let mut p = DFParserBuilder::new(sql).build()?;
    let mut out = vec![];
    let mut expect_delimiter = false;
    loop {
        while p.parser.consume_token(&Token::SemiColon) {
            expect_delimiter = false;
        }
        let next = p.parser.peek_token();
        if next.token == Token::EOF {
            break;
        }
        if expect_delimiter {
            return plan_err!(
                "SQL: expected ';' between statements, found {} at line {}",
                next.token,
                next.span.start.line
            );
        }
        let line = next.span.start.line;
        let statement = parse_statement(&mut p)?;
        out.push(ParsedStatement { statement, line });
        expect_delimiter = true;
    }
    Ok(out)
}

/// Parses exactly one statement.
pub fn parse_one(sql: &str) -> Result<CohortStatement> {
    let mut v = parse_sql(sql)?;
    match v.len() {
        1 => Ok(v.remove(0).statement),
        0 => plan_err!("SQL: no statement found"),
        n => {
            plan_err!("SQL: expected one statement, found {n}; run scripts statement by statement")
        }
    }
}

fn parse_statement(p: &mut DFParser) -> Result<CohortStatement> {
    let t0 = p.parser.peek_nth_token(0).token;
    let t1 = p.parser.peek_nth_token(1).token;
    let t2 = p.parser.peek_nth_token(2).token;
    let t3 = p.parser.peek_nth_token(3).token;
    let is_kw = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k);
    if is_kw(&t0, Keyword::CREATE)
        && (word_is(&t1, "model")
            || (is_kw(&t1, Keyword::OR) && is_kw(&t2, Keyword::REPLACE) && word_is(&t3, "model")))
    {
        return parse_create_model(p).map(CohortStatement::CreateModel);
    }
    if is_kw(&t0, Keyword::SHOW) && word_is(&t1, "models") {
        p.parser.next_token();
        p.parser.next_token();
        return Ok(CohortStatement::ShowModels);
    }
    if (is_kw(&t0, Keyword::DESCRIBE) || is_kw(&t0, Keyword::DESC)) && word_is(&t1, "model") {
        p.parser.next_token();
        p.parser.next_token();
        let name = ident_name(p.parser.parse_identifier().map_err(sql_err)?);
        return Ok(CohortStatement::DescribeModel { name });
    }
    if is_kw(&t0, Keyword::DROP) && word_is(&t1, "model") {
        p.parser.next_token();
        p.parser.next_token();
        let if_exists = p.parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let name = ident_name(p.parser.parse_identifier().map_err(sql_err)?);
        return Ok(CohortStatement::DropModel { name, if_exists });
    }
    Ok(CohortStatement::DataFusion(Box::new(p.parse_statement()?)))
}

fn option_value(e: SqlExpr, key: &str) -> Result<String> {
    match e {
        SqlExpr::Value(v) => match v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Ok(s),
            Value::Number(n, _) => Ok(n),
            Value::Boolean(b) => Ok(b.to_string()),
            other => plan_err!(
                "CREATE MODEL: option {key} = {other}; expected a string, number or boolean"
            ),
        },
        SqlExpr::Identifier(id) => Ok(id.value),
        SqlExpr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => Ok(format!("-{}", option_value(*expr, key)?)),
        other => plan_err!(
            "CREATE MODEL: option {key} = {other}; expected a string, number or boolean literal"
        ),
    }
}

fn parse_create_model(p: &mut DFParser) -> Result<CreateModel> {
    let parser = &mut p.parser;
    parser.expect_keyword_is(Keyword::CREATE).map_err(sql_err)?;
    let or_replace = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    parser.next_token(); // MODEL
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    if or_replace && if_not_exists {
        return plan_err!("CREATE MODEL: OR REPLACE and IF NOT EXISTS cannot be combined");
    }
    let name = ident_name(parser.parse_identifier().map_err(sql_err)?);
    let mut options = BTreeMap::new();
    if parser.parse_keyword(Keyword::OPTIONS) {
        parser.expect_token(&Token::LParen).map_err(sql_err)?;
        if !parser.consume_token(&Token::RParen) {
            loop {
                let key = parser
                    .parse_identifier()
                    .map_err(sql_err)?
                    .value
                    .to_ascii_lowercase();
                parser.expect_token(&Token::Eq).map_err(sql_err)?;
                let value = option_value(parser.parse_expr().map_err(sql_err)?, &key)?;
                if options.insert(key.clone(), value).is_some() {
                    return plan_err!("CREATE MODEL: option {key} is given twice");
                }
                if parser.consume_token(&Token::RParen) {
                    break;
                }
                parser.expect_token(&Token::Comma).map_err(sql_err)?;
            }
        }
    }
    if !parser.parse_keyword(Keyword::AS) {
        let found = parser.peek_token();
        return plan_err!(
            "CREATE MODEL {name}: expected OPTIONS (...) AS <query>, found {} at line {}",
            found.token,
            found.span.start.line
        );
    }
    let query = parser.parse_query().map_err(sql_err)?;
    Ok(CreateModel {
        name,
        or_replace,
        if_not_exists,
        options,
        query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_model_statements_and_passes_others_through() {
        let v = parse_sql(
            "CREATE OR REPLACE MODEL Churn OPTIONS (type = 'logistic_regression', label = 'y', seed = 7) AS SELECT a, y FROM t;\n\
             SHOW MODELS; DESCRIBE MODEL churn; DROP MODEL IF EXISTS churn;\nSELECT 1",
        )
        .unwrap();
        assert_eq!(v.len(), 5);
        let CohortStatement::CreateModel(c) = &v[0].statement else {
            panic!("{:?}", v[0])
        };
        assert_eq!(c.name, "churn");
        assert!(c.or_replace && !c.if_not_exists);
        assert_eq!(c.options.get("seed").map(String::as_str), Some("7"));
        assert_eq!(c.query.to_string(), "SELECT a, y FROM t");
        assert_eq!(v[1].statement, CohortStatement::ShowModels);
        assert!(matches!(
            v[3].statement,
            CohortStatement::DropModel {
                if_exists: true,
                ..
            }
        ));
        assert!(matches!(v[4].statement, CohortStatement::DataFusion(_)));
        assert_eq!(v[4].line, 3);
    }

    #[test]
    fn rejects_bad_model_statements() {
        assert!(parse_sql("CREATE MODEL m OPTIONS (type = 'x') SELECT 1").is_err());
        assert!(parse_sql("CREATE MODEL m OPTIONS (type = 'x', type = 'y') AS SELECT 1").is_err());
        assert!(parse_sql("SELECT 1 SELECT 2").is_err());
    }
}
