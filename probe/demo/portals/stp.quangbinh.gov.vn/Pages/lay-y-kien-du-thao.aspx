<!-- title: Lấy ý kiến dự thảo văn bản -->
<h2>Lấy ý kiến dự thảo văn bản quy phạm pháp luật</h2>
<table><tr><th>Dự thảo</th><th>Thời hạn góp ý</th></tr>
<tr><td>Dự thảo Quyết định quy định mức thu phí công chứng trên địa bàn tỉnh</td><td>30/11/2015</td></tr></table>
<p>Ý kiến góp ý gửi về: stp@quangbinh.gov.vn</p>
