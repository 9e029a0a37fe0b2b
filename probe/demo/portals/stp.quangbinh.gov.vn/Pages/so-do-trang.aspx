<!-- title: Sơ đồ trang -->
<h2>Sơ đồ trang</h2>
<ul><li><a href="/Pages/default.aspx">Trang chủ</a></li><li><a href="/Pages/gioi-thieu.aspx">Giới thiệu</a></li><li><a href="/Pages/TinTuc/tin-hoat-dong.aspx">Tin hoạt động</a></li><li><a href="/Pages/van-ban.aspx">Văn bản</a></li><li><a href="/Pages/thu-tuc-hanh-chinh.aspx">Thủ tục hành chính</a></li><li><a href="/Pages/hoi-dap.aspx">Hỏi đáp</a></li></ul>
