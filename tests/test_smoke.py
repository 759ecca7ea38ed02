def test_clerk_logs_in_and_sees_only_her_site(login):
    c = login("clerk_sz01")
    page = c.get("/site/").get_data(as_text=True)
    assert "深圳湾售楼处" in page
    assert "陆家嘴售楼处" not in page
