<!-- title: Triển khai thi hành Luật Hộ tịch -->
<h2>Triển khai thi hành Luật Hộ tịch từ ngày 01/01/2016</h2>
<p class="date">Quảng Bình, {{days_ago:4:long}}</p>
<p>Sở Tư pháp tổ chức hội nghị tập huấn Luật Hộ tịch cho công chức tư pháp - hộ tịch cấp xã; giới thiệu các văn bản quy phạm pháp luật hướng dẫn và thủ tục hành chính mới về đăng ký khai sinh, kết hôn.</p>
