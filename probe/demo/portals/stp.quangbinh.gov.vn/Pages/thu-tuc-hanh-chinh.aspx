<!-- title: Thủ tục hành chính -->
<h2>Thủ tục hành chính</h2>
<table><tr><th>Thủ tục</th><th>Lĩnh vực</th><th>Mức độ</th></tr>
<tr><td>Cấp phiếu lý lịch tư pháp cho công dân Việt Nam</td><td>Lý lịch tư pháp</td><td>Mức độ 2</td></tr>
<tr><td>Đăng ký hành nghề công chứng</td><td>Công chứng</td><td>Mức độ 1</td></tr></table>
