use crate::api::Api;
use crate::output::table;

/// `tables`: each table with its row count.
pub async fn tables(api: &Api) -> anyhow::Result<()> {
    let body = api.get_json("/api/v1/tables").await?;
    let rows: Vec<Vec<String>> = body["tables"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            vec![
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["rows"].to_string(),
            ]
        })
        .collect();
    println!("{}", table(&["table", "rows"], rows));
    Ok(())
}

/// `get`: one row as JSON.
pub async fn get(api: &Api, table: &str, id: i64) -> anyhow::Result<()> {
    let row = api
        .get_json(&format!("/api/v1/tables/{table}/rows/{id}"))
        .await?;
    println!("{}", serde_json::to_string_pretty(&row)?);
    Ok(())
}

/// `health`: is the API up and its database ready?
pub async fn health(api: &Api) -> anyhow::Result<()> {
    let body = api.get_json("/ready").await?;
    println!("{}", body["status"].as_str().unwrap_or("unknown"));
    Ok(())
}
